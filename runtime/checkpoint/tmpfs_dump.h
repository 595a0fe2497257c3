// The dump side of one tmpfs mount: walk it (scan_tmpfs, during classification, so a refusal
// comes before the image gets its first byte), then archive it (write_tmpfs_archive) in the
// tree format of image/tree_archive.h.
//
// Everything is reached through the container's root (/proc/PID/root) with openat2: the mount
// point resolves as the container would resolve it, and inside the mount no symlink is ever
// followed and no other mount is entered (a mount stacked inside, like /dev/shm on /dev, is
// skipped: it is archived on its own if it is a tmpfs of the container's). Files are opened
// with O_NOATIME and directories listed through such fds, so a checkpoint that leaves the
// container running does not change the access times it captured; the one exception is a
// symlink's atime, which reading its target moves where the mount's atime rules say so
// (strictatime, or relatime before the first read since a change): readlink(2) has no
// O_NOATIME. FIFOs, sockets and devices are never opened (opening a FIFO would pair with a
// writer waiting in open(2)).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "image/image.h"
#include "image/tree_archive.h"
#include "runtime/checkpoint/mountinfo.h"
#include "runtime/task/id_map.h"

namespace ckpt::checkpoint {

struct ScannedTmpfs {
  MountInfo mount;                        // as the container's mountinfo lists it
  std::vector<image::TreeEntry> entries;  // archive order; owners as the container sees them
  std::vector<uint64_t> inodes;           // st_ino of each entry, to recognise it when read
};

// Walks the tmpfs `mount` of the container whose root is `root_fd` (task::open_task_root).
// Owners are mapped to the container's ids with `uids`/`gids`. What cannot be captured (a
// device node the runtime does not create, an owner the container has no id for, a path too
// long for the archive, a mount covered by another) is appended to `problems`, one line each,
// naming the path inside the container.
ScannedTmpfs scan_tmpfs(int root_fd, const MountInfo& mount, const task::IdMap& uids,
                        const task::IdMap& gids, std::vector<std::string>& problems);

// Writes the archive of `scan` into `out`, reading file data through `root_fd` again; each
// file must still be the inode scanned, with the size scanned. Returns the data bytes written.
uint64_t write_tmpfs_archive(int root_fd, const ScannedTmpfs& scan, image::StreamWriter& out);

}  // namespace ckpt::checkpoint
