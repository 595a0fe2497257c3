#include "runtime/restore/tmpfs_unpack.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>

#include "common/error.h"
#include "runtime/checkpoint/tmpfs_policy.h"
#include "runtime/task/task_root.h"

namespace ckpt::restore {

namespace {

constexpr size_t kCopyChunk = 1u << 20;

std::string parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

std::string name_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

// How metadata calls reach one entry: through an fd of the file itself (directories and
// regular files, which are opened anyway), or by name in its parent directory (the rest:
// opening a FIFO or a device has effects of its own, and a symlink cannot be opened).
struct Node {
  int fd = -1;
  int dir_fd = -1;
  std::string name;
  bool symlink = false;
  std::string where;

  std::string proc_path() const { return "/proc/self/fd/" + std::to_string(dir_fd) + "/" + name; }

  void set_owner(uid_t uid, gid_t gid) const {
    int rc = fd >= 0 ? ::fchown(fd, uid, gid)
                     : ::fchownat(dir_fd, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW);
    if (rc < 0)
      throw sys_error("chown " + where + " to " + std::to_string(uid) + ":" + std::to_string(gid));
  }

  // A symlink's mode is always 0777 and cannot be changed.
  void set_mode(uint32_t mode) const {
    if (symlink) return;
    // glibc's fchmodat(AT_SYMLINK_NOFOLLOW) goes through an O_PATH fd of the entry itself and
    // refuses a symlink: the mode lands on this very inode.
    int rc =
        fd >= 0 ? ::fchmod(fd, mode) : ::fchmodat(dir_fd, name.c_str(), mode, AT_SYMLINK_NOFOLLOW);
    if (rc < 0) throw sys_error("chmod " + where);
  }

  void set_xattrs(const std::vector<image::Xattr>& xattrs) const {
    std::string path = fd >= 0 ? std::string() : proc_path();
    for (const image::Xattr& x : xattrs) {
      int rc = fd >= 0
                   ? ::fsetxattr(fd, x.name.c_str(), x.value.data(), x.value.size(), 0)
                   : ::lsetxattr(path.c_str(), x.name.c_str(), x.value.data(), x.value.size(), 0);
      if (rc < 0) throw sys_error("set xattr " + x.name + " on " + where);
    }
  }

  void set_times(const image::Timestamp& atime, const image::Timestamp& mtime) const {
    struct timespec ts[2] = {{atime.sec, static_cast<long>(atime.nsec)},
                             {mtime.sec, static_cast<long>(mtime.nsec)}};
    int rc =
        fd >= 0 ? ::futimens(fd, ts) : ::utimensat(dir_fd, name.c_str(), ts, AT_SYMLINK_NOFOLLOW);
    if (rc < 0) throw sys_error("set the times of " + where);
  }
};

mode_t node_type(image::EntryType type) {
  switch (type) {
    case image::EntryType::fifo:
      return S_IFIFO;
    case image::EntryType::socket:
      return S_IFSOCK;
    case image::EntryType::char_device:
      return S_IFCHR;
    case image::EntryType::block_device:
      return S_IFBLK;
    default:
      return 0;
  }
}

}  // namespace

TreeUnpacker::TreeUnpacker(int mount_fd, uint64_t mount_id, const task::IdMap& uids,
                           const task::IdMap& gids, std::string mount_point, bool read_only)
    : mount_fd_(mount_fd),
      mount_id_(mount_id),
      uids_(uids),
      gids_(gids),
      mount_point_(std::move(mount_point)),
      read_only_(read_only) {}

std::string TreeUnpacker::where(const std::string& rel) const {
  return checkpoint::path_in_container(mount_point_, rel);
}

uint32_t TreeUnpacker::host_uid(const image::TreeEntry& e) const {
  if (auto id = uids_.to_outside(e.uid)) return *id;
  throw Error(where(e.path) + ": uid " + std::to_string(e.uid) +
                  " of the image has no host id in the restored container's user namespace",
              0, "restore with the uid_mappings the container was checkpointed with");
}

uint32_t TreeUnpacker::host_gid(const image::TreeEntry& e) const {
  if (auto id = gids_.to_outside(e.gid)) return *id;
  throw Error(where(e.path) + ": gid " + std::to_string(e.gid) +
                  " of the image has no host id in the restored container's user namespace",
              0, "restore with the gid_mappings the container was checkpointed with");
}

int TreeUnpacker::parent_fd(const std::string& parent) {
  if (parent.empty()) return mount_fd_;
  if (!cached_parent_fd_ || parent != cached_parent_) {
    cached_parent_fd_ = task::open_beneath(mount_fd_, parent, O_PATH | O_DIRECTORY);
    cached_parent_ = parent;
  }
  return cached_parent_fd_.get();
}

void TreeUnpacker::add(const image::TreeEntry& e, image::TreeArchiveReader& data) {
  paths_.push_back(e.path);
  archived_.insert(e.path);
  if (e.path.empty())
    add_root(e);
  else
    add_entry(e, data);
}

void TreeUnpacker::add_root(const image::TreeEntry& e) {
  uid_t uid = host_uid(e);
  gid_t gid = host_gid(e);
  if (read_only_) {
    // A read-only tmpfs cannot be written; an empty one that already looks the same is fine
    // (its times cannot be set back, they are the restored mount's).
    struct stat st {};
    if (::fstat(mount_fd_, &st) < 0) throw sys_error("stat " + mount_point_);
    if (st.st_uid != uid || st.st_gid != gid || (st.st_mode & 07777) != e.mode)
      throw Error(mount_point_ +
                  " is read-only in the restored container and its owner or mode "
                  "differs from the image's");
    return;
  }
  Node n{mount_fd_, -1, "", false, mount_point_};
  n.set_owner(uid, gid);
  n.set_mode(e.mode);
  n.set_xattrs(e.xattrs);
  dirs_.push_back({"", e.atime, e.mtime});
}

void TreeUnpacker::add_entry(const image::TreeEntry& e, image::TreeArchiveReader& data) {
  if (read_only_)
    throw Error(mount_point_ + " is read-only in the restored container, but the image holds " +
                where(e.path) + " in it");
  int dir_fd = parent_fd(parent_of(e.path));
  std::string name = name_of(e.path);
  if (e.type == image::EntryType::hardlink) {
    add_hardlink(e, dir_fd, name);
    return;
  }
  bool keep = keep_existing(e, dir_fd, name);
  uid_t uid = host_uid(e);
  gid_t gid = host_gid(e);
  std::string w = where(e.path);
  switch (e.type) {
    case image::EntryType::directory: {
      if (!keep && ::mkdirat(dir_fd, name.c_str(), 0700) < 0) throw sys_error("mkdir " + w);
      UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!fd) throw sys_error("open " + w);
      Node n{fd.get(), -1, name, false, w};
      n.set_owner(uid, gid);
      n.set_mode(e.mode);
      n.set_xattrs(e.xattrs);
      dirs_.push_back({e.path, e.atime, e.mtime});
      return;
    }
    case image::EntryType::regular: {
      UniqueFd fd(::openat(dir_fd, name.c_str(),
                           O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!fd) throw sys_error("create " + w);
      write_data(fd.get(), e, data);
      if (::ftruncate(fd.get(), static_cast<off_t>(e.size)) < 0)
        throw sys_error("set the size of " + w);
      Node n{fd.get(), -1, name, false, w};
      n.set_owner(uid, gid);
      n.set_mode(e.mode);
      n.set_xattrs(e.xattrs);
      n.set_times(e.atime, e.mtime);
      return;
    }
    case image::EntryType::symlink:
      if (!keep && ::symlinkat(e.target.c_str(), dir_fd, name.c_str()) < 0)
        throw sys_error("symlink " + w + " -> " + e.target);
      break;
    default:
      if (!keep && ::mknodat(dir_fd, name.c_str(), node_type(e.type) | 0600,
                             makedev(e.dev_major, e.dev_minor)) < 0)
        throw sys_error(std::string("create the ") + image::entry_type_name(e.type) + " " + w);
      break;
  }
  Node n{-1, dir_fd, name, e.type == image::EntryType::symlink, w};
  n.set_owner(uid, gid);
  n.set_mode(e.mode);
  n.set_xattrs(e.xattrs);
  n.set_times(e.atime, e.mtime);
}

void TreeUnpacker::add_hardlink(const image::TreeEntry& e, int dir_fd, const std::string& name) {
  const std::string& target = paths_.at(e.link_to);
  // Not through parent_fd(): that would replace the cached fd `dir_fd` may be.
  UniqueFd target_dir = task::open_beneath(mount_fd_, parent_of(target), O_PATH | O_DIRECTORY);
  std::string w = where(e.path);
  struct statx want {
  }, have{};
  if (int err = task::stat_entry(target_dir.get(), name_of(target), want); err < 0)
    throw Error("stat " + where(target), -err);
  int err = task::stat_entry(dir_fd, name, have);
  if (err == 0) {
    if (have.stx_mnt_id != mount_id_)
      throw Error(w +
                  " is a mount point in the restored container, the image has a hard link "
                  "there");
    if (have.stx_ino == want.stx_ino) return;
    remove_entry(dir_fd, name, e.path);
  } else if (err != -ENOENT) {
    throw Error("stat " + w, -err);
  }
  if (::linkat(target_dir.get(), name_of(target).c_str(), dir_fd, name.c_str(), 0) < 0)
    throw sys_error("link " + w + " to " + where(target));
}

bool TreeUnpacker::keep_existing(const image::TreeEntry& e, int dir_fd, const std::string& name) {
  struct statx st {};
  int err = task::stat_entry(dir_fd, name, st);
  if (err == -ENOENT) return false;
  std::string w = where(e.path);
  if (err < 0) throw Error("stat " + w, -err);
  if (st.stx_mnt_id != mount_id_)
    throw Error(w + " is a mount point in the restored container, the image has a " +
                image::entry_type_name(e.type) + " there");
  bool same = false;
  switch (e.type) {
    case image::EntryType::directory:
      same = S_ISDIR(st.stx_mode);
      break;
    case image::EntryType::fifo:
      same = S_ISFIFO(st.stx_mode);
      break;
    case image::EntryType::socket:
      same = S_ISSOCK(st.stx_mode);
      break;
    case image::EntryType::char_device:
    case image::EntryType::block_device:
      same = (st.stx_mode & S_IFMT) == node_type(e.type) && st.stx_rdev_major == e.dev_major &&
             st.stx_rdev_minor == e.dev_minor;
      break;
    case image::EntryType::symlink: {
      if (!S_ISLNK(st.stx_mode)) break;
      std::string target(st.stx_size + 1, '\0');
      ssize_t n = ::readlinkat(dir_fd, name.c_str(), target.data(), target.size());
      if (n < 0) throw sys_error("read the symlink " + w);
      target.resize(static_cast<size_t>(n));
      same = target == e.target;
      break;
    }
    default:  // a regular file's contents are the archive's: always written anew
      break;
  }
  if (same) return true;
  remove_entry(dir_fd, name, e.path);
  return false;
}

void TreeUnpacker::remove_entry(int dir_fd, const std::string& name, const std::string& rel) {
  // Only archived directories are ever cached, and those are never removed; but a stale fd
  // must not survive a removal should that change.
  if (cached_parent_ == rel || cached_parent_.rfind(rel + "/", 0) == 0) cached_parent_fd_.reset();
  struct statx st {};
  if (int err = task::stat_entry(dir_fd, name, st); err < 0)
    throw Error("stat " + where(rel), -err);
  if (st.stx_mnt_id != mount_id_)
    throw Error(where(rel) +
                " is a mount point in the restored container; the image does not "
                "have it");
  if (S_ISDIR(st.stx_mode)) {
    UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) throw sys_error("open " + where(rel));
    for (const std::string& child : task::list_directory(fd.get(), where(rel)))
      remove_entry(fd.get(), child, join(rel, child));
  }
  if (::unlinkat(dir_fd, name.c_str(), S_ISDIR(st.stx_mode) ? AT_REMOVEDIR : 0) < 0)
    throw sys_error("remove " + where(rel));
}

void TreeUnpacker::write_data(int fd, const image::TreeEntry& e, image::TreeArchiveReader& data) {
  if (e.runs.empty()) return;
  if (buf_.empty()) buf_.resize(kCopyChunk);
  for (const image::DataRun& run : e.runs) {
    for (uint64_t done = 0; done < run.length;) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(run.length - done, buf_.size()));
      data.read_data(buf_.data(), n);
      for (size_t put = 0; put < n;) {
        ssize_t w =
            ::pwrite(fd, buf_.data() + put, n - put, static_cast<off_t>(run.offset + done + put));
        if (w < 0) {
          if (errno == EINTR) continue;
          Error err = sys_error("write " + where(e.path));
          if (errno == ENOSPC)
            err.with_hint("the restored tmpfs at " + mount_point_ +
                          " is smaller than the checkpointed one; give it a larger size=");
          throw err;
        }
        put += static_cast<size_t>(w);
      }
      done += n;
    }
  }
}

void TreeUnpacker::prune(const std::string& dir) {
  UniqueFd fd = task::open_beneath(mount_fd_, dir, O_RDONLY | O_DIRECTORY);
  for (const std::string& name : task::list_directory(fd.get(), where(dir))) {
    std::string child = join(dir, name);
    if (archived_.count(child)) continue;
    struct statx st {};
    if (int err = task::stat_entry(fd.get(), name, st); err < 0)
      throw Error("stat " + where(child), -err);
    if (st.stx_mnt_id != mount_id_) continue;  // a mount of its own, stacked here
    remove_entry(fd.get(), name, child);
  }
}

void TreeUnpacker::finish() {
  if (read_only_) return;
  for (const DirTimes& d : dirs_) prune(d.path);
  // Deepest first: setting a directory's times must come after every change inside it.
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
    UniqueFd fd = task::open_beneath(mount_fd_, it->path, O_RDONLY | O_DIRECTORY);
    Node{fd.get(), -1, "", false, where(it->path)}.set_times(it->atime, it->mtime);
  }
}

}  // namespace ckpt::restore
