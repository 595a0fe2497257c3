#include "ns/rootfs_util.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/error.h"
#include "common/file_util.h"

namespace ckpt::ns {
namespace {

// glibc 2.36 has no openat2 wrapper.
int openat2_in_root(int root, const std::string& rel) {
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(syscall(SYS_openat2, root, rel.c_str(), &how, sizeof how));
}

std::string relative(const std::string& path) {
  size_t start = path.find_first_not_of('/');
  return start == std::string::npos ? "." : path.substr(start);
}

}  // namespace

UniqueFd open_in_root(const NewRoot& root, const std::string& path) {
  UniqueFd fd(openat2_in_root(root.fd, relative(path)));
  if (!fd) throw sys_error("open " + path + " in the rootfs");
  return fd;
}

std::string fd_path(const UniqueFd& fd) {
  return "/proc/self/fd/" + std::to_string(fd.get());
}

UniqueFd mount_point(const NewRoot& root, const std::string& path, bool directory) {
  UniqueFd fd(openat2_in_root(root.fd, relative(path)));
  if (fd) return fd;
  if (errno != ENOENT) throw sys_error("open " + path + " in the rootfs");
  if (!root.may_create)
    throw Error("mount point " + path + " does not exist in the rootfs", ENOENT,
                "the rootfs is the host's /, which is never written to: create " + path +
                    " on the host, or use a rootfs directory");
  // Create each missing component, each resolved inside the root like the final lookup.
  std::vector<std::string> parts = split(path, '/');
  std::string prefix;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string parent = prefix.empty() ? "/" : prefix;
    prefix += "/" + parts[i];
    UniqueFd existing(openat2_in_root(root.fd, relative(prefix)));
    if (existing) continue;
    if (errno != ENOENT) throw sys_error("open " + prefix + " in the rootfs");
    UniqueFd dir = open_in_root(root, parent);
    bool last = i + 1 == parts.size();
    if (last && !directory) {
      UniqueFd file(openat(dir.get(), parts[i].c_str(),
                           O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644));
      if (!file && errno != EEXIST) throw sys_error("create mount point " + prefix);
    } else if (mkdirat(dir.get(), parts[i].c_str(), 0755) < 0 && errno != EEXIST) {
      throw sys_error("create mount point " + prefix);
    }
  }
  return open_in_root(root, path);
}

void set_mount_attrs(const NewRoot& root, const std::string& path, unsigned long ms_flags,
                     bool recursive) {
  mount_attr attr{};
  if (ms_flags & MS_RDONLY) attr.attr_set |= MOUNT_ATTR_RDONLY;
  if (ms_flags & MS_NOSUID) attr.attr_set |= MOUNT_ATTR_NOSUID;
  if (ms_flags & MS_NODEV) attr.attr_set |= MOUNT_ATTR_NODEV;
  if (ms_flags & MS_NOEXEC) attr.attr_set |= MOUNT_ATTR_NOEXEC;
  if (ms_flags & MS_NODIRATIME) attr.attr_set |= MOUNT_ATTR_NODIRATIME;
  if (attr.attr_set == 0) return;
  // Re-resolve: the descriptor taken before the mount names the covered directory.
  UniqueFd fd = open_in_root(root, path);
  unsigned int flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
  check_sys(mount_setattr(fd.get(), "", flags, &attr, sizeof attr),
            "set mount attributes of " + path);
}

}  // namespace ckpt::ns
