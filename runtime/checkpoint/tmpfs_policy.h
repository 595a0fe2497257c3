// What of a container's tmpfs mounts the image captures, decided from mount tables and file
// facts alone (pure, unit-tested): which mounts are the container's own tmpfs, and which
// device nodes in them may be carried over.
#pragma once

#include <string>
#include <vector>

#include "runtime/checkpoint/mountinfo.h"

namespace ckpt::checkpoint {

// The container's own tmpfs mounts, in mountinfo order (a mount before those inside it): type
// tmpfs, the whole file system (root "/"), and a file system (major:minor) that the dumper's
// own mount table (`host`) does not have, since a tmpfs of the host bound into the container
// holds the host's files, not the container's. A file system mounted twice is captured once,
// at its first mount. A tmpfs of the container's that is mounted only as a subdirectory (its
// other files unreachable) cannot be captured: one line for `problems`.
std::vector<MountInfo> own_tmpfs_mounts(const std::vector<MountInfo>& container,
                                        const std::vector<MountInfo>& host,
                                        std::vector<std::string>& problems);

// "" when a device node at `relpath` of the tmpfs mounted at `mount_point` may be in the image;
// otherwise why not. Only the nodes the runtime itself creates in /dev (ns::default_devices,
// same name and numbers) are accepted: the restore finds them there again, while any other
// device would give the restored container access the runtime never granted it.
std::string device_refusal(const std::string& mount_point, const std::string& relpath, bool block,
                           unsigned major, unsigned minor);

// The path inside the container of `relpath` in the tmpfs at `mount_point` ("" is the mount
// point itself): ("/dev/shm", "a/b") -> "/dev/shm/a/b", ("/", "x") -> "/x".
std::string path_in_container(const std::string& mount_point, const std::string& relpath);

}  // namespace ckpt::checkpoint
