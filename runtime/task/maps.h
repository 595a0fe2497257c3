// /proc/PID/maps: the address-space layout of a task as the kernel reports it. The parser is a
// pure function (unit-tested); read_maps() adds the file read.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ckpt::task {

struct MapEntry {
  uint64_t start = 0;
  uint64_t end = 0;
  int prot = 0;         // PROT_READ | PROT_WRITE | PROT_EXEC
  bool shared = false;  // 's' in the perms column, else 'p'
  uint64_t offset = 0;
  uint32_t dev_major = 0, dev_minor = 0;
  uint64_t inode = 0;
  std::string name;  // path (may contain spaces, may end in " (deleted)"), "[heap]", or ""

  uint64_t size() const { return end - start; }
  bool is_special() const { return !name.empty() && name.front() == '['; }
  bool is_file() const { return inode != 0; }
};

// Parses the whole text of /proc/PID/maps; throws ckpt::Error naming the bad line.
std::vector<MapEntry> parse_maps(const std::string& text);
std::vector<MapEntry> read_maps(pid_t pid);

}  // namespace ckpt::task
