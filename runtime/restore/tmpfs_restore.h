// Puts the contents of the container's tmpfs mounts back (model::TmpfsMount, archived by the
// checkpoint's `filesystems` stage), after the restored container's mount tree exists and
// before any task is restored: the tasks' fds and file mappings reopen these files.
#pragma once

#include <sys/types.h>

#include <vector>

#include "runtime/model/task_model.h"
#include "runtime/restore/image_source.h"

namespace ckpt::restore {

// `init_host_pid`: the restored container's first process (its stub), whose root and mount
// namespace are the container's. First checks that the container has a tmpfs of its own at
// every mount point of `mounts` (one line naming those it lacks, nothing written), then
// unpacks each archive into its mount, resolving everything through /proc/PID/root.
// Owners are mapped from the container's ids to host ids through the stub's uid_map/gid_map.
void restore_tmpfs_mounts(pid_t init_host_pid, const std::vector<model::TmpfsMount>& mounts,
                          const ImageSource& image);

}  // namespace ckpt::restore
