// Internal to the restore engine: writes one tree archive (image/tree_archive.h) into the
// root of a freshly mounted tmpfs, entry by entry, so that afterwards the mount holds exactly
// what the archive describes.
//
// Safety: every path is resolved below the mount's root with RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV, so a symlink from the archive ("x -> /etc") is created
// but never followed, and nothing is written outside this mount (a mount point inside it,
// like /dev/shm in /dev, is neither written into nor removed).
//
// Order, forced by the kernel: data before ownership (a write clears setuid), ownership before
// the mode (chown(2) clears setuid/setgid) and before xattrs (chown clears
// security.capability), times last; directories' times after everything else, deepest first,
// since creating or removing an entry changes its directory's mtime.
//
// What the runtime already put into the fresh mount (its /dev nodes and symlinks) is kept when
// the archive has the same thing at the same path (same type, same target or device numbers),
// replaced when it has something else, and removed when the archive does not have it.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/unique_fd.h"
#include "image/tree_archive.h"
#include "runtime/task/id_map.h"

namespace ckpt::restore {

class TreeUnpacker {
 public:
  // `mount_fd`: the mount's root directory (O_RDONLY | O_DIRECTORY), borrowed; `mount_id` its
  // mount id; owners are turned into host ids with `uids`/`gids` (the restored init's maps).
  // `read_only`: the restored mount is read-only, so only an archive holding nothing but a root
  // directory that already matches can be applied. `mount_point` names the mount in messages.
  TreeUnpacker(int mount_fd, uint64_t mount_id, const task::IdMap& uids, const task::IdMap& gids,
               std::string mount_point, bool read_only);

  // Creates (or reuses) the entry and, for a regular file, writes its data from `data`.
  void add(const image::TreeEntry& entry, image::TreeArchiveReader& data);
  // Removes what the archive does not have and sets the directories' times.
  void finish();

 private:
  struct DirTimes {
    std::string path;
    image::Timestamp atime, mtime;
  };

  std::string where(const std::string& rel) const;
  int parent_fd(const std::string& parent);
  uint32_t host_uid(const image::TreeEntry& e) const;
  uint32_t host_gid(const image::TreeEntry& e) const;
  void add_root(const image::TreeEntry& e);
  void add_entry(const image::TreeEntry& e, image::TreeArchiveReader& data);
  void add_hardlink(const image::TreeEntry& e, int dir_fd, const std::string& name);
  // Whether an existing entry (of the runtime's) is what the archive wants there; removes it
  // if not. Throws when it is a mount point.
  bool keep_existing(const image::TreeEntry& e, int dir_fd, const std::string& name);
  void remove_entry(int dir_fd, const std::string& name, const std::string& rel);
  void write_data(int fd, const image::TreeEntry& e, image::TreeArchiveReader& data);
  void prune(const std::string& dir);

  int mount_fd_;
  uint64_t mount_id_;
  const task::IdMap& uids_;
  const task::IdMap& gids_;
  std::string mount_point_;
  bool read_only_;
  std::vector<std::string> paths_;  // by entry index, for hard links
  std::unordered_set<std::string> archived_;
  std::vector<DirTimes> dirs_;  // archive order (parents first)
  std::string cached_parent_;
  UniqueFd cached_parent_fd_;
  std::vector<char> buf_;
};

}  // namespace ckpt::restore
