// Every open file description of a checkpoint, created once, by the restorer, before any task
// is rebuilt; restore_files() then installs each in every fd that held it (fd_channel.h), so
// the holders share one offset and one set of status flags again, as after dup or fork.
//
// The restorer makes them itself rather than each stub opening its own: a description opened
// once cannot come out of two opens, and the kinds to come (pipes, sockets) are made in pairs
// that must end up in different tasks. Paths are resolved in the container with openat2
// RESOLVE_IN_ROOT on the restore's /proc/<init>/root, which lies in the container's mount
// namespace. The handler of each kind (runtime/files/) does the opening; deleted files are
// recreated first (files::GhostInodeSet) and deleted again once every description of them is
// open.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>

#include "common/unique_fd.h"
#include "runtime/files/ghost_inodes.h"
#include "runtime/model/task_model.h"
#include "runtime/restore/image_source.h"

namespace ckpt::restore {

class FileTable {
 public:
  FileTable() = default;
  // `init_host_pid`: the restore's init, already in the container's namespaces and root, whose
  // stdio stands in for the container's external stdio. Throws naming the file that failed.
  FileTable(const model::Checkpoint& checkpoint, const ImageSource& image, pid_t init_host_pid);
  FileTable(FileTable&&) = default;
  FileTable& operator=(FileTable&&) = default;

  // The restorer's fd of description `file_id`; throws if the image has no such file.
  int fd(uint64_t file_id) const;
  // An fd of deleted file `ghost_id` to map: read-write for writable shared mappings.
  int ghost_fd(uint64_t ghost_id, bool writable) const {
    return ghosts_.map_fd(ghost_id, writable);
  }

 private:
  files::GhostInodeSet ghosts_;
  std::map<uint64_t, UniqueFd> files_;
};

}  // namespace ckpt::restore
