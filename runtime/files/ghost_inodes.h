// Deleted files that are still open ("ghost files"): a regular file whose fd link ends in
// " (deleted)" and whose link count is 0 is reachable by no path, so its inode's contents go
// into the image, once per inode however many descriptions (and mappings) use it.
//
// Dump (GhostInodes): classification records each inode at first sight and refuses once the
// data of all deleted files would pass a bound (they are copied into the image, and a restore
// needs as much space where they lived). The dump reads the contents through
// /proc/PID/fd/N, a new description of the same inode that leaves the task's offset alone.
//
// Restore (GhostInodeSet): each inode is created again in the directory it was deleted from
// (or the nearest directory above that still exists), under its old name if it is free, else a
// fresh one; filled, truncated to its size, given its owner and mode, and kept linked while the
// descriptions of it are opened; unlink_all() then deletes it again, so /proc/PID/fd shows it
// "(deleted)" as before. Whatever is still linked when the set is destroyed (a failed restore)
// is unlinked then: nothing is left behind.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/unique_fd.h"
#include "image/image.h"
#include "runtime/files/file_kind.h"
#include "runtime/model/files_model.h"

namespace ckpt::restore {
class ImageSource;
}

namespace ckpt::files {

// The most the deleted files of one checkpoint may hold, in bytes of data (holes are free).
constexpr uint64_t kGhostBytesLimit = uint64_t{1} << 30;

class GhostInodes {
 public:
  GhostInodes() = default;
  explicit GhostInodes(uint64_t limit) : limit_(limit) {}

  // The ghost of the inode `d` is open on, recorded at its first description; `path` is where
  // it was in the container. Refused when the deleted files' data would pass the limit.
  Verdict add(const Description& d, const std::string& path, uint64_t& id);
  // The ghost of an inode as /proc/PID/maps names it (device major:minor, inode); 0 if none.
  uint64_t find(unsigned dev_major, unsigned dev_minor, uint64_t ino) const;
  // Writes the contents of ghost `id` into its image stream, reading through `holder`; once per
  // ghost (later calls do nothing). Returns the bytes written.
  uint64_t dump(uint64_t id, const Holder& holder, image::ImageWriter& writer,
                const image::CompressionSpec& compression);

  const std::vector<model::GhostFile>& files() const { return files_; }
  std::vector<model::GhostFile> take() { return std::move(files_); }

 private:
  model::GhostFile& get(uint64_t id);

  uint64_t limit_ = kGhostBytesLimit;
  uint64_t bytes_ = 0;
  std::vector<model::GhostFile> files_;
  std::map<std::pair<dev_t, ino_t>, uint64_t> ids_;
  std::set<uint64_t> dumped_;
};

class GhostInodeSet {
 public:
  GhostInodeSet() = default;
  // Creates and fills every ghost; `root` is an O_PATH fd of the container's root.
  GhostInodeSet(const std::vector<model::GhostFile>& ghosts, const restore::ImageSource& image,
                int root);
  GhostInodeSet(GhostInodeSet&&) = default;
  GhostInodeSet& operator=(GhostInodeSet&&) = default;

  // A new description of ghost `id` with `flags` (reopen_flags), while it is still linked.
  UniqueFd open(uint64_t id, int flags) const;
  // An fd of ghost `id` to map it: read-write for writable shared mappings, else read-only.
  int map_fd(uint64_t id, bool writable) const;
  // Unlinks every ghost: they are deleted files again.
  void unlink_all();

 private:
  // One recreated inode; unlinks itself when destroyed still linked (a failed restore, even
  // one that fails halfway through creating the set).
  struct Inode {
    std::string path;  // where it was in the container (for messages)
    UniqueFd dir;      // O_PATH of the directory it is created in
    std::string name;  // its name there while linked
    UniqueFd rw, ro;
    bool linked = false;
    UniqueFd reopen(int flags) const;  // a new description of it, by its name
    void unlink();
    ~Inode();
  };
  const Inode& get(uint64_t id) const;

  std::map<uint64_t, std::unique_ptr<Inode>> inodes_;
};

}  // namespace ckpt::files
