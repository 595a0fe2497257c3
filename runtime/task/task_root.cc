#include "runtime/task/task_root.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/error.h"

namespace ckpt::task {

namespace {

// glibc 2.36 has no openat2 wrapper.
int openat2_raw(int dir_fd, const std::string& path, int flags, uint64_t resolve) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = resolve;
  int fd = static_cast<int>(syscall(SYS_openat2, dir_fd, path.c_str(), &how, sizeof how));
  return fd < 0 ? -errno : fd;
}

}  // namespace

UniqueFd open_task_root(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/root";
  UniqueFd fd(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) throw sys_error("open " + path);
  return fd;
}

UniqueFd open_in_root(int root_fd, const std::string& path, int flags) {
  std::string rel = path;
  while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
  if (rel.empty()) rel = ".";
  int fd = openat2_raw(root_fd, rel, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (fd < 0) throw Error("open " + path, -fd);
  return UniqueFd(fd);
}

int open_beneath_raw(int dir_fd, const std::string& relpath, int flags) {
  return openat2_raw(
      dir_fd, relpath.empty() ? "." : relpath, flags,
      RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS);
}

UniqueFd open_beneath(int dir_fd, const std::string& relpath, int flags) {
  int fd = open_beneath_raw(dir_fd, relpath, flags);
  if (fd < 0) throw Error("open " + (relpath.empty() ? std::string(".") : relpath), -fd);
  return UniqueFd(fd);
}

int stat_entry(int dir_fd, const std::string& name, struct statx& out) {
  int flags = AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | (name.empty() ? AT_EMPTY_PATH : 0);
  if (::statx(dir_fd, name.c_str(), flags, STATX_BASIC_STATS | STATX_MNT_ID, &out) < 0)
    return -errno;
  return 0;
}

}  // namespace ckpt::task
