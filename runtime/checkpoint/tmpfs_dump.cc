#include "runtime/checkpoint/tmpfs_dump.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <map>

#include "common/error.h"
#include "runtime/checkpoint/tmpfs_policy.h"
#include "runtime/task/task_root.h"

namespace ckpt::checkpoint {

namespace {

constexpr size_t kMaxArchivePath = 4095;
constexpr size_t kCopyChunk = 1u << 20;

std::string join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

// Every xattr that can be read (user.*, trusted.*, security.*, system.posix_acl_*); one that
// this process may not read is left out rather than failing the checkpoint.
std::vector<image::Xattr> read_xattrs(const std::function<ssize_t(char*, size_t)>& list,
                                      const std::function<ssize_t(const char*, char*, size_t)>& get,
                                      const std::string& where) {
  std::vector<image::Xattr> out;
  std::string names;
  for (;;) {
    ssize_t n = list(nullptr, 0);
    if (n < 0) {
      if (errno == ENOTSUP) return out;
      throw sys_error("list the xattrs of " + where);
    }
    names.resize(static_cast<size_t>(n));
    n = list(names.data(), names.size());
    if (n >= 0) {
      names.resize(static_cast<size_t>(n));
      break;
    }
    if (errno != ERANGE) throw sys_error("list the xattrs of " + where);
  }
  for (size_t at = 0; at < names.size();) {
    std::string name = names.c_str() + at;
    at += name.size() + 1;
    if (name.empty()) continue;
    std::string value;
    ssize_t n;
    for (;;) {
      n = get(name.c_str(), nullptr, 0);
      if (n < 0) break;
      value.resize(static_cast<size_t>(n));
      n = get(name.c_str(), value.data(), value.size());
      if (n >= 0 || errno != ERANGE) break;
    }
    if (n < 0) {
      if (errno == EACCES || errno == EPERM || errno == ENODATA || errno == ENOTSUP) continue;
      throw sys_error("read xattr " + name + " of " + where);
    }
    value.resize(static_cast<size_t>(n));
    out.push_back({name, value});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::vector<image::Xattr> fd_xattrs(int fd, const std::string& where) {
  return read_xattrs(
      [fd](char* buf, size_t size) { return ::flistxattr(fd, buf, size); },
      [fd](const char* name, char* buf, size_t size) { return ::fgetxattr(fd, name, buf, size); },
      where);
}

// Xattrs of an entry that is not opened (symlink, FIFO, socket, device): through its name in
// the already-resolved parent directory, without following it (l*xattr on the last component).
std::vector<image::Xattr> name_xattrs(int dir_fd, const std::string& name,
                                      const std::string& where) {
  std::string path = "/proc/self/fd/" + std::to_string(dir_fd) + "/" + name;
  return read_xattrs(
      [&path](char* buf, size_t size) { return ::llistxattr(path.c_str(), buf, size); },
      [&path](const char* xname, char* buf, size_t size) {
        return ::lgetxattr(path.c_str(), xname, buf, size);
      },
      where);
}

// The data runs of a regular file: SEEK_DATA/SEEK_HOLE (lseek(2); tmpfs reports holes by
// page) so a sparse file's holes are neither read nor stored.
std::vector<image::DataRun> data_runs(int fd, uint64_t size, const std::string& where) {
  std::vector<image::DataRun> runs;
  off_t pos = 0;
  while (static_cast<uint64_t>(pos) < size) {
    off_t data = ::lseek(fd, pos, SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;  // only a hole up to the end
      throw sys_error("find the data of " + where);
    }
    off_t hole = ::lseek(fd, data, SEEK_HOLE);
    if (hole < 0) throw sys_error("find the holes of " + where);
    uint64_t end = std::min<uint64_t>(static_cast<uint64_t>(hole), size);
    if (end > static_cast<uint64_t>(data))
      runs.push_back({static_cast<uint64_t>(data), end - static_cast<uint64_t>(data)});
    pos = hole;
  }
  return runs;
}

image::EntryType type_of(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFDIR:
      return image::EntryType::directory;
    case S_IFREG:
      return image::EntryType::regular;
    case S_IFLNK:
      return image::EntryType::symlink;
    case S_IFIFO:
      return image::EntryType::fifo;
    case S_IFSOCK:
      return image::EntryType::socket;
    case S_IFCHR:
      return image::EntryType::char_device;
    case S_IFBLK:
      return image::EntryType::block_device;
  }
  throw Error("unknown file type " + std::to_string(mode & S_IFMT));
}

class Scanner {
 public:
  Scanner(const MountInfo& mount, const task::IdMap& uids, const task::IdMap& gids,
          std::vector<std::string>& problems, ScannedTmpfs& out)
      : mount_(mount), uids_(uids), gids_(gids), problems_(problems), out_(out) {}

  void scan(int root_fd) {
    UniqueFd top =
        task::open_in_root(root_fd, mount_.mount_point, O_RDONLY | O_DIRECTORY | O_NOATIME);
    struct statx st {};
    if (int err = task::stat_entry(top.get(), "", st); err < 0)
      throw Error("stat " + mount_.mount_point, -err);
    if (st.stx_mnt_id != static_cast<uint64_t>(mount_.id)) {
      problems_.push_back("tmpfs at " + mount_.mount_point +
                          " is covered by another mount, its files are out of reach (unmount "
                          "what covers it before checkpointing)");
      return;
    }
    top_ = top.get();
    image::TreeEntry root = entry_of("", st);
    root.type = image::EntryType::directory;
    root.xattrs = fd_xattrs(top.get(), mount_.mount_point);
    push(std::move(root), st.stx_ino);
    walk("", top.get());
  }

 private:
  std::string where(const std::string& rel) const {
    return path_in_container(mount_.mount_point, rel);
  }

  image::TreeEntry entry_of(const std::string& rel, const struct statx& st) {
    image::TreeEntry e;
    e.path = rel;
    e.type = type_of(st.stx_mode);
    e.mode = st.stx_mode & 07777;
    auto uid = uids_.to_inside(st.stx_uid);
    auto gid = gids_.to_inside(st.stx_gid);
    if (!uid || !gid) {
      problems_.push_back(
          where(rel) + " is owned by host " +
          (uid ? "gid " + std::to_string(st.stx_gid) : "uid " + std::to_string(st.stx_uid)) +
          ", which has no id in the container's user namespace (chown it to an "
          "id of the container's)");
    }
    e.uid = uid.value_or(0);
    e.gid = gid.value_or(0);
    e.atime = {st.stx_atime.tv_sec, st.stx_atime.tv_nsec};
    e.mtime = {st.stx_mtime.tv_sec, st.stx_mtime.tv_nsec};
    return e;
  }

  void push(image::TreeEntry e, uint64_t ino) {
    out_.entries.push_back(std::move(e));
    out_.inodes.push_back(ino);
  }

  // One directory: its entries in name order, then each subdirectory's (reopened from the
  // mount's root, so no fd is held per level of depth).
  void walk(const std::string& rel, int dir_fd) {
    std::vector<std::string> subdirs;
    for (const std::string& name : task::list_directory(dir_fd, where(rel))) {
      std::string child = join(rel, name);
      struct statx st {};
      if (int err = task::stat_entry(dir_fd, name, st); err < 0)
        throw Error("stat " + where(child), -err);
      // A mount point: the lookup crossed into the mount stacked here (/dev/shm on /dev, a
      // device bind-mounted in a user namespace's /dev). Not this file system's file.
      if (st.stx_mnt_id != static_cast<uint64_t>(mount_.id)) continue;
      if (child.size() > kMaxArchivePath) {
        problems_.push_back(where(child) + ": a path longer than 4095 bytes cannot be archived");
        continue;
      }
      if (add(dir_fd, name, child, st)) subdirs.push_back(child);
    }
    for (const std::string& sub : subdirs) {
      UniqueFd fd = with_context(mount_.mount_point, [&] {
        return task::open_beneath(top_, sub, O_RDONLY | O_DIRECTORY | O_NOATIME);
      });
      walk(sub, fd.get());
    }
  }

  // Adds one entry; true if it is a directory to descend into.
  bool add(int dir_fd, const std::string& name, const std::string& child, const struct statx& st) {
    image::EntryType type = type_of(st.stx_mode);
    // An inode with more names than this one: the first name found carries it, later names
    // link to that entry (st_dev is the mount's for all of them).
    if (type != image::EntryType::directory && st.stx_nlink > 1) {
      auto [it, first] = first_name_.try_emplace(st.stx_ino, out_.entries.size());
      if (!first) {
        image::TreeEntry link;
        link.path = child;
        link.type = image::EntryType::hardlink;
        link.link_to = it->second;
        push(std::move(link), st.stx_ino);
        return false;
      }
    }
    image::TreeEntry e = entry_of(child, st);
    switch (type) {
      case image::EntryType::directory: {
        UniqueFd fd(::openat(dir_fd, name.c_str(),
                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC));
        if (!fd) throw sys_error("open " + where(child));
        e.xattrs = fd_xattrs(fd.get(), where(child));
        push(std::move(e), st.stx_ino);
        return true;
      }
      case image::EntryType::regular: {
        UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC));
        if (!fd) throw sys_error("open " + where(child));
        e.size = st.stx_size;
        e.runs = data_runs(fd.get(), e.size, where(child));
        e.xattrs = fd_xattrs(fd.get(), where(child));
        break;
      }
      case image::EntryType::symlink: {
        std::string target(st.stx_size + 1, '\0');
        ssize_t n = ::readlinkat(dir_fd, name.c_str(), target.data(), target.size());
        if (n < 0) throw sys_error("read the symlink " + where(child));
        target.resize(static_cast<size_t>(n));
        e.target = std::move(target);
        e.xattrs = name_xattrs(dir_fd, name, where(child));
        break;
      }
      case image::EntryType::char_device:
      case image::EntryType::block_device: {
        e.dev_major = st.stx_rdev_major;
        e.dev_minor = st.stx_rdev_minor;
        std::string why =
            device_refusal(mount_.mount_point, child, type == image::EntryType::block_device,
                           e.dev_major, e.dev_minor);
        if (!why.empty()) problems_.push_back(where(child) + " is a " + why);
        e.xattrs = name_xattrs(dir_fd, name, where(child));
        break;
      }
      default:  // fifo, socket: the inode only
        e.xattrs = name_xattrs(dir_fd, name, where(child));
        break;
    }
    push(std::move(e), st.stx_ino);
    return false;
  }

  const MountInfo& mount_;
  const task::IdMap& uids_;
  const task::IdMap& gids_;
  std::vector<std::string>& problems_;
  ScannedTmpfs& out_;
  int top_ = -1;                             // the mount's root directory (borrowed)
  std::map<uint64_t, uint64_t> first_name_;  // st_ino -> entry index
};

}  // namespace

ScannedTmpfs scan_tmpfs(int root_fd, const MountInfo& mount, const task::IdMap& uids,
                        const task::IdMap& gids, std::vector<std::string>& problems) {
  ScannedTmpfs out;
  out.mount = mount;
  with_context("tmpfs " + mount.mount_point,
               [&] { Scanner(mount, uids, gids, problems, out).scan(root_fd); });
  return out;
}

uint64_t write_tmpfs_archive(int root_fd, const ScannedTmpfs& scan, image::StreamWriter& out) {
  const std::string& mp = scan.mount.mount_point;
  UniqueFd top = task::open_in_root(root_fd, mp, O_PATH | O_DIRECTORY);
  image::TreeArchiveWriter archive(out);
  std::vector<char> buf;
  for (size_t i = 0; i < scan.entries.size(); ++i) {
    const image::TreeEntry& e = scan.entries[i];
    archive.add(e);
    if (e.type != image::EntryType::regular || e.runs.empty()) continue;
    std::string where = path_in_container(mp, e.path);
    UniqueFd fd = task::open_beneath(top.get(), e.path, O_RDONLY | O_NOFOLLOW | O_NOATIME);
    struct stat st {};
    if (::fstat(fd.get(), &st) < 0) throw sys_error("stat " + where);
    if (st.st_ino != scan.inodes[i] || static_cast<uint64_t>(st.st_size) != e.size)
      throw Error(where + " changed between classification and dump", 0,
                  "something outside the container writes into its tmpfs; stop it and retry");
    if (buf.empty()) buf.resize(kCopyChunk);
    for (const image::DataRun& run : e.runs) {
      for (uint64_t done = 0; done < run.length;) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(run.length - done, buf.size()));
        ssize_t n = ::pread(fd.get(), buf.data(), want, static_cast<off_t>(run.offset + done));
        if (n < 0) {
          if (errno == EINTR) continue;
          throw sys_error("read " + where);
        }
        if (n == 0) throw Error(where + " shrank while it was dumped");
        archive.write_data(buf.data(), static_cast<size_t>(n));
        done += static_cast<uint64_t>(n);
      }
    }
  }
  archive.finish();
  return archive.data_bytes();
}

}  // namespace ckpt::checkpoint
