#include "runtime/task/id_map.h"

#include "common/error.h"
#include "common/file_util.h"

namespace ckpt::task {

namespace {

IdMap read_map(pid_t pid, const char* file) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  return with_context(path, [&] { return IdMap::parse(read_file(path)); });
}

}  // namespace

IdMap read_uid_map(pid_t pid) {
  return read_map(pid, "uid_map");
}
IdMap read_gid_map(pid_t pid) {
  return read_map(pid, "gid_map");
}

}  // namespace ckpt::task
