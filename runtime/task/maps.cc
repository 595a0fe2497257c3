#include "runtime/task/maps.h"

#include <sys/mman.h>

#include <cinttypes>
#include <cstdio>

#include "common/error.h"
#include "common/file_util.h"

namespace ckpt::task {

namespace {

MapEntry parse_line(const std::string& line, size_t lineno) {
  MapEntry e;
  char perms[5] = {};
  int name_pos = -1;
  // Format (fs/proc/task_mmu.c show_map_vma): start-end perms offset major:minor inode name
  int n = std::sscanf(line.c_str(), "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64 " %n",
                      &e.start, &e.end, perms, &e.offset, &e.dev_major, &e.dev_minor, &e.inode,
                      &name_pos);
  if (n != 7 || name_pos < 0 || e.end < e.start || perms[3] == '\0') {
    throw Error("maps line " + std::to_string(lineno) + ": cannot parse \"" + line + "\"");
  }
  if (perms[0] == 'r') e.prot |= PROT_READ;
  if (perms[1] == 'w') e.prot |= PROT_WRITE;
  if (perms[2] == 'x') e.prot |= PROT_EXEC;
  e.shared = perms[3] == 's';
  // The name is the rest of the line verbatim: paths may contain spaces.
  if (static_cast<size_t>(name_pos) < line.size()) e.name = line.substr(name_pos);
  return e;
}

}  // namespace

std::vector<MapEntry> parse_maps(const std::string& text) {
  std::vector<MapEntry> out;
  size_t pos = 0, lineno = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    ++lineno;
    if (nl > pos) out.push_back(parse_line(text.substr(pos, nl - pos), lineno));
    pos = nl + 1;
  }
  return out;
}

std::vector<MapEntry> read_maps(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/maps";
  return with_context(path, [&] { return parse_maps(read_file(path)); });
}

}  // namespace ckpt::task
