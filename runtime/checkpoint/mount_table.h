// The container's mount table as /proc/PID/mountinfo shows it, and what changed in it since the
// container started. A restore rebuilds the mount tree from the spec (ns/rootfs.cc), so any
// change the workload made at run time (a mount added, removed, remounted, its propagation
// changed, something mounted over a spec mount) would be lost: the checkpoint refuses each one.
// Pure logic, unit-tested (tests/unit/checkpoint_mount_table_test.cc).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ckpt::checkpoint {

// One line of mountinfo (proc(5), /proc/pid/mountinfo), without what differs between two
// containers built alike: mount ids, parent ids and device numbers (a new tmpfs gets a new
// anonymous device each time).
struct MountEntry {
  std::string mount_point;    // field 5, relative to the reading task's root, unescaped
  std::string root;           // field 4: the directory of the file system mounted there
  std::string fs_type;        // after the separator
  std::string source;         // "tmpfs", "/dev/vda", "none"...
  std::string mount_options;  // per-mount: "rw,nosuid,relatime"
  std::string super_options;  // per-superblock: "rw,size=65536k,mode=755"
  // The optional fields reduced to their kinds, in order: "shared", "master", "propagate_from",
  // "unbindable" joined by ','; "" for a private mount. Peer group numbers are left out: they
  // name kernel-internal groups, not something a restore could or should reproduce.
  std::string propagation;

  bool operator==(const MountEntry&) const = default;
};

using MountTable = std::vector<MountEntry>;  // in mountinfo order (mount order)

// Parses /proc/PID/mountinfo (mountinfo.h, escapes decoded) and keeps of each mount what two
// containers built alike share. Throws naming the line when one is malformed.
MountTable parse_mountinfo(std::string_view text);

// One sentence per difference between the table the container started with and the current
// one, naming the mount point, its type and what changed, e.g.
// "mount /x (tmpfs) was added at run time; restore cannot recreate it yet (unmount it before
// checkpointing)". Empty when nothing changed. Mounts are matched by mount point; several
// mounts stacked on one point are matched bottom to top.
std::vector<std::string> mount_table_changes(const MountTable& initial, const MountTable& current);

// A path as messages show it: one line, so a newline or tab in a mount point is escaped the way
// mountinfo escapes it.
std::string printable_path(std::string_view path);

}  // namespace ckpt::checkpoint
