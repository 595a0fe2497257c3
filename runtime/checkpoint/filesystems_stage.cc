// The container's own file systems: its tmpfs mounts (/dev, /dev/shm, the spec's /tmp, /run,
// ...) hold files that exist nowhere else, so their contents go into the image. They are
// walked during classification, while nothing has been written (a device node that cannot be
// carried over refuses the checkpoint there), and archived by the `filesystems` stage. The
// tasks are in ptrace-stop all along, so the tree cannot change between the two.
#include <sys/stat.h>

#include "common/error.h"
#include "common/file_util.h"
#include "runtime/checkpoint/dump_context.h"
#include "runtime/checkpoint/mountinfo.h"
#include "runtime/checkpoint/tmpfs_dump.h"
#include "runtime/checkpoint/tmpfs_policy.h"
#include "runtime/task/id_map.h"
#include "runtime/task/task_root.h"

namespace ckpt::checkpoint {

namespace {

// A "container" that shares our mount namespace (the engine's own tests run workloads in a
// new pid namespace only) has no mounts of its own: every tmpfs it sees is the host's.
bool shares_our_mount_namespace(pid_t pid) {
  std::string theirs = "/proc/" + std::to_string(pid) + "/ns/mnt";
  struct stat a {
  }, b{};
  if (::stat(theirs.c_str(), &a) < 0) throw sys_error("stat " + theirs);
  if (::stat("/proc/self/ns/mnt", &b) < 0) throw sys_error("stat /proc/self/ns/mnt");
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace

void classify_filesystems(DumpContext& ctx, std::vector<std::string>& problems) {
  pid_t init = ctx.seized.init_host_pid();
  if (shares_our_mount_namespace(init)) return;
  std::string path = "/proc/" + std::to_string(init) + "/mountinfo";
  std::vector<MountInfo> container =
      with_context(path, [&] { return parse_mount_records(read_file(path)); });
  std::vector<MountInfo> host = with_context("/proc/self/mountinfo", [&] {
    return parse_mount_records(read_file("/proc/self/mountinfo"));
  });
  std::vector<MountInfo> mounts = own_tmpfs_mounts(container, host, problems);
  if (mounts.empty()) return;

  UniqueFd root = task::open_task_root(init);
  task::IdMap uids = task::read_uid_map(init);
  task::IdMap gids = task::read_gid_map(init);
  for (const MountInfo& m : mounts)
    ctx.tmpfs.push_back(scan_tmpfs(root.get(), m, uids, gids, problems));
}

void filesystems_stage(DumpContext& ctx) {
  if (ctx.tmpfs.empty()) return;
  UniqueFd root = task::open_task_root(ctx.seized.init_host_pid());
  for (size_t i = 0; i < ctx.tmpfs.size(); ++i) {
    const ScannedTmpfs& scan = ctx.tmpfs[i];
    model::TmpfsMount t;
    t.mount_point = scan.mount.mount_point;
    t.mount_options = scan.mount.mount_options;
    t.fs_options = scan.mount.super_options;
    t.stream = "tmpfs-" + std::to_string(i);
    t.entries = scan.entries.size();
    with_context("tmpfs " + t.mount_point, [&] {
      image::StreamWriter& out = ctx.writer.open_stream(t.stream, ctx.options.compression);
      t.bytes = write_tmpfs_archive(root.get(), scan, out);
      out.finish();
    });
    ctx.bytes_written += t.bytes;
    ctx.tmpfs_mounts.push_back(std::move(t));
    ctx.progress(Stage::filesystems);
  }
}

}  // namespace ckpt::checkpoint
