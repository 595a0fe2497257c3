#include "runtime/task/task_root.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

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

std::vector<std::string> list_directory(int dir_fd, const std::string& where) {
  // fdopendir takes ownership of its fd: give it a duplicate. The duplicate shares the open file
  // description, so its flags (O_NOATIME) and its directory offset: rewind before reading.
  int dup_fd = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) throw sys_error("dup " + where);
  DIR* dir = ::fdopendir(dup_fd);
  if (dir == nullptr) {
    ::close(dup_fd);
    throw sys_error("list " + where);
  }
  ::rewinddir(dir);
  std::vector<std::string> names;
  errno = 0;
  while (dirent* ent = ::readdir(dir)) {
    std::string name = ent->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
    errno = 0;
  }
  int err = errno;
  ::closedir(dir);
  if (err != 0) throw Error("list " + where, err);
  std::sort(names.begin(), names.end());
  return names;
}

int stat_entry(int dir_fd, const std::string& name, struct statx& out) {
  int flags = AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | (name.empty() ? AT_EMPTY_PATH : 0);
  if (::statx(dir_fd, name.c_str(), flags, STATX_BASIC_STATS | STATX_MNT_ID, &out) < 0)
    return -errno;
  return 0;
}

}  // namespace ckpt::task
