#include "runtime/files/ghost_inodes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>

#include "common/error.h"
#include "common/file_util.h"
#include "runtime/files/ghost_contents.h"
#include "runtime/files/path_kind.h"
#include "runtime/restore/image_source.h"

namespace ckpt::files {

namespace {

std::string mib(uint64_t bytes) {
  return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB";
}

// What a sparse file really holds: its allocated blocks, but never more than its size.
uint64_t data_bytes(const checkpoint::FdFacts& f) {
  return std::min<uint64_t>(f.size, f.blocks * 512);
}

std::pair<std::string, std::string> split_path(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {"/", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

// The directory `dir` in the container, or the nearest one above it that still exists.
UniqueFd nearest_directory(int root, std::string dir) {
  for (;;) {
    try {
      return open_in_root(root, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    } catch (const Error& e) {
      if (e.code() != ENOENT || dir == "/") throw;
    }
    dir = split_path(dir).first;
  }
}

}  // namespace

Verdict GhostInodes::add(const Description& d, const std::string& path, uint64_t& id) {
  const checkpoint::FdFacts& f = d.facts;
  auto known = ids_.find({f.dev, f.ino});
  if (known != ids_.end()) {
    id = known->second;
    return Verdict::capturable();
  }
  uint64_t bytes = data_bytes(f);
  if (bytes_ + bytes > limit_) {
    return Verdict::refused("a deleted file holding " + mib(bytes) +
                            "; the contents of deleted open files are kept in the image only up "
                            "to " +
                            mib(limit_) + " in all (" + mib(bytes_ + bytes) +
                            " here); close it or truncate it before checkpointing");
  }
  bytes_ += bytes;
  model::GhostFile g;
  g.id = files_.size() + 1;
  g.path = path;
  g.size = f.size;
  g.mode = f.mode;
  g.uid = f.uid;
  g.gid = f.gid;
  g.stream = "ghost-" + std::to_string(g.id);
  files_.push_back(g);
  ids_[{f.dev, f.ino}] = g.id;
  id = g.id;
  return Verdict::capturable();
}

uint64_t GhostInodes::find(unsigned dev_major, unsigned dev_minor, uint64_t ino) const {
  auto it = ids_.find({makedev(dev_major, dev_minor), static_cast<ino_t>(ino)});
  return it == ids_.end() ? 0 : it->second;
}

model::GhostFile& GhostInodes::get(uint64_t id) {
  if (id == 0 || id > files_.size()) throw Error("no deleted file " + std::to_string(id));
  return files_[id - 1];
}

uint64_t GhostInodes::dump(uint64_t id, const Holder& holder, image::ImageWriter& writer,
                           const image::CompressionSpec& compression) {
  if (!dumped_.insert(id).second) return 0;
  model::GhostFile& g = get(id);
  return with_context("deleted file " + g.path, [&] {
    // A new description of the same inode: the task's own offset stays where it is.
    UniqueFd fd = open_file(
        "/proc/" + std::to_string(holder.host_pid) + "/fd/" + std::to_string(holder.fd), O_RDONLY);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw sys_error("stat");
    if (static_cast<uint64_t>(st.st_size) != g.size)
      throw Error("its size changed from " + std::to_string(g.size) + " to " +
                  std::to_string(st.st_size) + " bytes while the container was stopped");
    g.runs = data_runs(fd.get(), g.size);
    image::StreamWriter& out = writer.open_stream(g.stream, compression);
    uint64_t n = copy_runs(fd.get(), g.runs, out);
    out.finish();
    return n;
  });
}

void GhostInodeSet::Inode::unlink() {
  if (!linked) return;
  if (::unlinkat(dir.get(), name.c_str(), 0) != 0)
    throw sys_error("unlink the recreated deleted file " + path);
  linked = false;
}

UniqueFd GhostInodeSet::Inode::reopen(int flags) const {
  // No O_NOFOLLOW: it would stay in the description's flags (F_GETFL shows it). The name was
  // made by us with O_EXCL; checking the inode catches anything put in its place since.
  UniqueFd fd(::openat(dir.get(), name.c_str(), flags));
  if (!fd) throw sys_error("open deleted file " + path);
  struct stat got {
  }, want{};
  if (::fstat(fd.get(), &got) != 0 || ::fstat(rw.get(), &want) != 0)
    throw sys_error("stat " + path);
  if (got.st_dev != want.st_dev || got.st_ino != want.st_ino)
    throw Error("the recreated deleted file " + path + " was replaced while it was reopened");
  return fd;
}

GhostInodeSet::Inode::~Inode() {
  if (linked) ::unlinkat(dir.get(), name.c_str(), 0);
}

GhostInodeSet::GhostInodeSet(const std::vector<model::GhostFile>& ghosts,
                             const restore::ImageSource& image, int root) {
  for (const model::GhostFile& g : ghosts) {
    with_context("deleted file " + g.path, [&] {
      if (!S_ISREG(g.mode))
        throw Error("is not a regular file (mode " + std::to_string(g.mode) + ")");
      if (inodes_.count(g.id) != 0) throw Error("id " + std::to_string(g.id) + " is used twice");
      auto [dir, base] = split_path(g.path);
      auto inode = std::make_unique<Inode>();
      inode->path = g.path;
      inode->dir = nearest_directory(root, dir);
      // Its old name if free, so /proc/PID/fd shows the same "(deleted)" path as before.
      inode->name = base.empty() ? "ghost" : base;
      for (int attempt = 0;; ++attempt) {
        int fd = ::openat(inode->dir.get(), inode->name.c_str(),
                          O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
          inode->rw.reset(fd);
          inode->linked = true;
          break;
        }
        if (errno != EEXIST || attempt >= 100) throw sys_error("create it again in " + dir);
        inode->name = base + ".ckpt-ghost-" + std::to_string(g.id) + "-" + std::to_string(attempt);
      }
      Inode& in = *(inodes_[g.id] = std::move(inode));
      auto stream = image.open_stream(g.stream);
      fill_runs(in.rw.get(), g.runs, g.size, *stream);
      // chown first: it clears set-user-ID and set-group-ID bits, which fchmod then restores.
      if (::fchown(in.rw.get(), g.uid, g.gid) != 0)
        throw sys_error("chown to " + std::to_string(g.uid) + ":" + std::to_string(g.gid));
      if (::fchmod(in.rw.get(), g.mode & 07777) != 0) throw sys_error("chmod");
      in.ro = in.reopen(O_RDONLY | O_CLOEXEC);
    });
  }
}

const GhostInodeSet::Inode& GhostInodeSet::get(uint64_t id) const {
  auto it = inodes_.find(id);
  if (it == inodes_.end())
    throw Error("deleted file " + std::to_string(id) + " is not in the image");
  return *it->second;
}

UniqueFd GhostInodeSet::open(uint64_t id, int flags) const {
  const Inode& inode = get(id);
  if (!inode.linked) throw Error("deleted file " + inode.path + " was already unlinked again");
  return inode.reopen(flags);
}

int GhostInodeSet::map_fd(uint64_t id, bool writable) const {
  const Inode& inode = get(id);
  return writable ? inode.rw.get() : inode.ro.get();
}

void GhostInodeSet::unlink_all() {
  for (auto& [id, inode] : inodes_) inode->unlink();
}

}  // namespace ckpt::files
