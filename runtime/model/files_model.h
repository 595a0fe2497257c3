// Open files in the checkpoint model, as the kernel has them: an open file description (struct
// file: what open(2) creates and dup(2), fork(2) and SCM_RIGHTS share) is one File with an id,
// holding what is per description (status flags, offset, what it is open on); each process has
// a table fd -> File id plus the per-fd close-on-exec bit (model::Fd in task_model.h). A
// restore creates each File once and installs it in every fd that holds it, so the holders
// share one offset and one set of flags again.
//
// Each kind of File is handled by one handler in runtime/files/ (classification, dump, restore,
// description for `image inspect`, and the JSON of its own fields); this header is only data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ckpt::model {

enum class FileKind {
  regular,    // a regular file reopened by its path inside the container
  directory,  // a directory reopened by its path
  device,     // a character device that behaves the same wherever it is reopened (/dev/null...)
  ghost,      // a regular file deleted while open: its inode's contents are in a GhostFile
  external,   // stdio the container got from outside (pipe, terminal, log file): the restore
              // installs its own stdio in its place
};

struct File {
  uint64_t id = 0;  // unique in the checkpoint, > 0
  FileKind kind = FileKind::regular;
  int flags = 0;     // f_flags as fdinfo shows them, without O_CLOEXEC (which is per fd)
  uint64_t pos = 0;  // f_pos
  // regular, directory, device: the path inside the container. ghost: the path the file had
  // (without " (deleted)"). external: empty.
  std::string path;
  uint64_t ghost_id = 0;  // ghost: the GhostFile of its inode
  std::string stdio;      // external: "stdin", "stdout" or "stderr", the restore's fd used
  std::string was;        // external: what it was at the dump ("pipe:[123]", "/dev/pts/0")

  bool operator==(const File&) const = default;
};

// Bytes of a sparse file: `length` bytes at `offset`; everything between runs is a hole.
struct DataRun {
  uint64_t offset = 0;
  uint64_t length = 0;
  bool operator==(const DataRun&) const = default;
};

// The inode of a deleted, still open regular file ("ghost file"): not reachable by any path, so
// its contents are kept in the image, once for all descriptions open on it (and mappings of it).
struct GhostFile {
  uint64_t id = 0;            // > 0
  std::string path;           // the path it had inside the container, without " (deleted)"
  uint64_t size = 0;          // st_size
  uint32_t mode = 0;          // st_mode (type and permission bits)
  uint32_t uid = 0, gid = 0;  // owner as the host sees it
  std::string stream;         // image stream: the bytes of `runs`, back to back
  std::vector<DataRun> runs;  // ascending, non-overlapping, within size

  bool operator==(const GhostFile&) const = default;
};

}  // namespace ckpt::model
