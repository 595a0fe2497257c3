#include "runtime/restore/tmpfs_restore.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "common/error.h"
#include "common/file_util.h"
#include "image/tree_archive.h"
#include "runtime/checkpoint/mountinfo.h"
#include "runtime/checkpoint/tmpfs_policy.h"
#include "runtime/restore/tmpfs_unpack.h"
#include "runtime/task/id_map.h"
#include "runtime/task/task_root.h"

namespace ckpt::restore {

namespace {

using checkpoint::MountInfo;

// The mount the container sees at `mount_point`: the last one listed there (mounts stacked
// on one point are listed in the order they were mounted; the last is on top).
const MountInfo* visible_at(const std::vector<MountInfo>& mounts, const std::string& mount_point) {
  const MountInfo* top = nullptr;
  for (const MountInfo& m : mounts)
    if (m.mount_point == mount_point) top = &m;
  return top;
}

// For each mount of the image, the restored container's own tmpfs at its mount point; throws
// one line naming every mount point that has none.
std::vector<MountInfo> match_mounts(pid_t pid, const std::vector<model::TmpfsMount>& mounts) {
  std::string path = "/proc/" + std::to_string(pid) + "/mountinfo";
  std::vector<MountInfo> container =
      with_context(path, [&] { return checkpoint::parse_mount_records(read_file(path)); });
  std::vector<MountInfo> host = with_context("/proc/self/mountinfo", [&] {
    return checkpoint::parse_mount_records(read_file("/proc/self/mountinfo"));
  });
  std::vector<std::string> ignored;
  std::vector<MountInfo> own = checkpoint::own_tmpfs_mounts(container, host, ignored);

  std::vector<MountInfo> out;
  std::string missing;
  for (const model::TmpfsMount& t : mounts) {
    const MountInfo* top = visible_at(container, t.mount_point);
    const MountInfo* match = nullptr;
    for (const MountInfo& m : own)
      if (top != nullptr && m.id == top->id) match = &m;
    if (match == nullptr) {
      missing += (missing.empty() ? "" : ", ") + t.mount_point;
      continue;
    }
    out.push_back(*match);
  }
  if (!missing.empty())
    throw Error("the image holds the contents of tmpfs " + missing +
                    " but the restored container has no tmpfs of its own mounted there",
                0,
                "the tmpfs was mounted while the container ran, not by its spec; add it to the "
                "spec's mounts, or unmount it before checkpointing");
  return out;
}

// A file is created owned by its creator's fsuid/fsgid, and a file system mounted in a user
// namespace refuses an owner it has no id for (EOVERFLOW, fsuidgid_has_mapping() in
// fs/namei.c): this process's root, host uid 0, has none in the container's namespace. So
// while it unpacks, the calling thread acts on file systems as the container's root (setfsuid
// and setfsgid change the calling thread's credentials only), keeping its capabilities:
// without SECBIT_NO_SETUID_FIXUP, leaving fsuid 0 would drop CAP_CHOWN, CAP_FOWNER, CAP_MKNOD
// and the DAC overrides (capabilities(7), "Effect of user ID changes on capabilities").
// Outside a user namespace root maps to 0 and nothing changes.
class ActAsContainerRoot {
 public:
  ActAsContainerRoot(const task::IdMap& uids, const task::IdMap& gids)
      : uid_(uids.to_outside(0).value_or(0)), gid_(gids.to_outside(0).value_or(0)) {
    if (uid_ == 0 && gid_ == 0) return;
    bits_ = static_cast<int>(check_sys(::prctl(PR_GET_SECUREBITS), "prctl(PR_GET_SECUREBITS)"));
    check_sys(::prctl(PR_SET_SECUREBITS, bits_ | SECBIT_NO_SETUID_FIXUP),
              "prctl(PR_SET_SECUREBITS)");
    active_ = true;
    // Raw syscalls: each returns the previous id, never an error, so the change is checked by
    // asking again (an id of -1 changes nothing).
    ::syscall(SYS_setfsgid, gid_);
    ::syscall(SYS_setfsuid, uid_);
    if (::syscall(SYS_setfsuid, -1) != static_cast<long>(uid_) ||
        ::syscall(SYS_setfsgid, -1) != static_cast<long>(gid_)) {
      undo();
      throw Error("act as the container's root (host " + std::to_string(uid_) + ":" +
                  std::to_string(gid_) + ") on its file systems: setfsuid/setfsgid refused");
    }
  }
  ~ActAsContainerRoot() { undo(); }
  ActAsContainerRoot(const ActAsContainerRoot&) = delete;
  ActAsContainerRoot& operator=(const ActAsContainerRoot&) = delete;

 private:
  void undo() noexcept {
    if (!active_) return;
    ::syscall(SYS_setfsuid, 0);
    ::syscall(SYS_setfsgid, 0);
    ::prctl(PR_SET_SECUREBITS, bits_);
    active_ = false;
  }

  uint32_t uid_, gid_;
  int bits_ = 0;
  bool active_ = false;
};

void unpack_one(int root_fd, const MountInfo& mount, const model::TmpfsMount& t,
                const task::IdMap& uids, const task::IdMap& gids, const ImageSource& image) {
  UniqueFd top = task::open_in_root(root_fd, t.mount_point, O_RDONLY | O_DIRECTORY);
  struct statx st {};
  if (int err = task::stat_entry(top.get(), "", st); err < 0)
    throw Error("stat " + t.mount_point, -err);
  struct statfs fs {};
  if (::fstatfs(top.get(), &fs) < 0) throw sys_error("statfs " + t.mount_point);
  // Written into only if it is that very tmpfs (not a path a symlink made lead elsewhere).
  if (st.stx_mnt_id != static_cast<uint64_t>(mount.id) || fs.f_type != TMPFS_MAGIC)
    throw Error(t.mount_point + " does not lead to the restored container's tmpfs there");

  std::unique_ptr<image::StreamReader> stream = image.open_stream(t.stream);
  image::TreeArchiveReader archive(*stream,
                                   "tmpfs archive " + t.stream + " (" + t.mount_point + ")");
  TreeUnpacker unpacker(top.get(), st.stx_mnt_id, uids, gids, t.mount_point, mount.read_only());
  while (std::optional<image::TreeEntry> e = archive.next()) unpacker.add(*e, archive);
  stream->finish();
  if (archive.entries() != t.entries || archive.data_bytes() != t.bytes)
    throw Error("tmpfs archive " + t.stream + " holds " + std::to_string(archive.entries()) +
                    " entries and " + std::to_string(archive.data_bytes()) +
                    " bytes, the manifest says " + std::to_string(t.entries) + " and " +
                    std::to_string(t.bytes),
                0, "the image is damaged or was modified");
  unpacker.finish();
}

}  // namespace

void restore_tmpfs_mounts(pid_t init_host_pid, const std::vector<model::TmpfsMount>& mounts,
                          const ImageSource& image) {
  if (mounts.empty()) return;
  std::vector<MountInfo> targets = match_mounts(init_host_pid, mounts);
  UniqueFd root = task::open_task_root(init_host_pid);
  task::IdMap uids = task::read_uid_map(init_host_pid);
  task::IdMap gids = task::read_gid_map(init_host_pid);
  ActAsContainerRoot as_root(uids, gids);
  for (size_t i = 0; i < mounts.size(); ++i) {
    with_context("restore tmpfs " + mounts[i].mount_point,
                 [&] { unpack_one(root.get(), targets[i], mounts[i], uids, gids, image); });
  }
}

}  // namespace ckpt::restore
