#include "common/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>

#include "common/error.h"

namespace ckpt {

bool try_lock(int fd, LockMode mode, const std::string& what) {
  int op = (mode == LockMode::shared ? LOCK_SH : LOCK_EX) | LOCK_NB;
  for (;;) {
    if (::flock(fd, op) == 0) return true;
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return false;
    throw sys_error("lock " + what);
  }
}

UniqueFd try_lock_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) throw sys_error("open lock file " + path);
  UniqueFd owned(fd);
  if (!try_lock(fd, LockMode::exclusive, path)) return UniqueFd();
  return owned;
}

bool lock_file_held(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return false;
    throw sys_error("open lock file " + path);
  }
  UniqueFd owned(fd);
  // Our probe lock goes with the fd: closing it is the unlock.
  return !try_lock(fd, LockMode::shared, path);
}

}  // namespace ckpt
