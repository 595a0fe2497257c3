// Copies memory out of a stopped process into an image stream with as few copies and syscalls
// as possible: process_vm_readv gathers up to IOV_MAX page runs straight into one large buffer,
// which goes to the StreamWriter as is. Ranges process_vm_readv cannot read (PROT_NONE, --x:
// it does not force access) fall back to /proc/PID/mem, which does (FOLL_FORCE).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "common/unique_fd.h"
#include "image/image.h"
#include "runtime/model/task_model.h"

namespace ckpt::checkpoint {

class PageCopier {
 public:
  // `pid` is the host pid; the process must stay stopped while copying.
  explicit PageCopier(pid_t pid, size_t buffer_bytes = 8u << 20);

  // Appends the bytes of every run, in order, to `out`; returns the number of bytes written.
  uint64_t copy(const std::vector<model::PageRun>& runs, image::StreamWriter& out);

 private:
  struct Piece {
    uint64_t addr;
    size_t len;
  };
  void flush(image::StreamWriter& out);
  void read_with_mem(uint64_t addr, char* dst, size_t len);

  pid_t pid_;
  std::vector<char> buffer_;
  std::vector<Piece> batch_;
  size_t filled_ = 0;
  UniqueFd mem_;
};

// Dumps the whole shared anonymous object behind the mapping [start, end) of `pid` (via
// /proc/PID/map_files, which opens the shmem file itself, so offsets are object offsets).
// Returns the object size (the length of the original mmap).
uint64_t copy_shared_object(pid_t pid, uint64_t start, uint64_t end, image::StreamWriter& out);

}  // namespace ckpt::checkpoint
