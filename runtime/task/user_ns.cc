#include "runtime/task/user_ns.h"

#include <sys/stat.h>

#include "common/error.h"
#include "common/file_util.h"

namespace ckpt::task {

namespace {

UserNsId stat_ns(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw sys_error("stat " + path);
  return UserNsId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
}

}  // namespace

UserNsId user_ns_id(pid_t pid) {
  return stat_ns("/proc/" + std::to_string(pid) + "/ns/user");
}

UserNsId own_user_ns_id() {
  return stat_ns("/proc/self/ns/user");
}

UserNsFiles read_user_ns(pid_t pid) {
  UserNsFiles out;
  out.id = user_ns_id(pid);
  out.callers_own = out.id == own_user_ns_id();
  if (out.callers_own) return out;
  std::string proc = "/proc/" + std::to_string(pid) + "/";
  out.uid_map = read_file(proc + "uid_map");
  out.gid_map = read_file(proc + "gid_map");
  out.setgroups = std::string(trim(read_file(proc + "setgroups")));
  return out;
}

}  // namespace ckpt::task
