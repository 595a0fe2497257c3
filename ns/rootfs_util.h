// Helpers for building the container's mount tree (internal to ns/). Paths inside the new root
// are resolved with openat2(RESOLVE_IN_ROOT) from a descriptor of that root, so a symlink in a
// container rootfs ("mnt -> /etc") cannot redirect a mount onto the host's tree; the mount then
// targets /proc/self/fd/N of the resolved descriptor.
#pragma once

#include <string>

#include "common/unique_fd.h"

namespace ckpt::ns {

struct NewRoot {
  int fd = -1;              // O_PATH descriptor of the new root (borrowed)
  bool may_create = false;  // false when the rootfs is the host's /: never write to the host
};

// O_PATH descriptor of `path` (absolute, inside the new root); throws naming the path.
UniqueFd open_in_root(const NewRoot& root, const std::string& path);
// Like open_in_root, but creates a missing mount point first: a directory, or an empty file
// when `directory` is false (bind mounts of files). Refuses when !root.may_create.
UniqueFd mount_point(const NewRoot& root, const std::string& path, bool directory);
// "/proc/self/fd/N": the path mount(2) is given for a resolved descriptor.
std::string fd_path(const UniqueFd& fd);

// Sets (and clears) MOUNT_ATTR_* on the mount at `path` inside the new root, recursively when
// asked; unlike a MS_REMOUNT it leaves the attributes it is not told about alone (a bind of a
// nodev mount stays nodev).
void set_mount_attrs(const NewRoot& root, const std::string& path, unsigned long ms_flags,
                     bool recursive);

// The minimal /dev: a tmpfs with null zero full random urandom tty, pts, shm and the fd links.
void setup_dev(const NewRoot& root, bool user_namespace);

}  // namespace ckpt::ns
