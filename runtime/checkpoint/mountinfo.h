// /proc/PID/mountinfo as values (proc(5), "/proc/pid/mountinfo"): which file system is mounted
// where in a task's mount namespace, with its options, mount ids and device numbers. Pure and
// unit-tested; the dump finds the container's tmpfs mounts with it (a mount id to compare with
// statx's, a device to tell the host's file systems from the container's) and the restore
// checks the restored container has them; checkpoint/mount_table.h reduces the records to what
// two containers built alike have in common, to compare their tables.
#pragma once

#include <string>
#include <vector>

namespace ckpt::checkpoint {

struct MountInfo {
  int id = 0;                     // the mount id (statx's STATX_MNT_ID gives the same number)
  int parent_id = 0;              // the mount it sits on (itself for the namespace root)
  unsigned major = 0, minor = 0;  // st_dev of files on it
  std::string root;               // the directory of the file system mounted here ("/" whole)
  std::string mount_point;        // relative to the reading task's root: "/dev/shm"
  std::string mount_options;      // per-mount flags: "rw,nosuid,nodev,noexec,relatime"
  std::vector<std::string> optional_fields;  // "shared:7", "master:2", ...
  std::string fs_type;                       // "tmpfs", "proc", "ext4", ...
  std::string source;                        // "tmpfs", "/dev/vda", ...
  std::string super_options;                 // the file system's: "rw,size=65536k,mode=755"

  bool read_only() const;  // the mount (not only the file system) is read-only
  bool operator==(const MountInfo&) const = default;
};

// Parses the whole file, in its order (a mount is listed after the one it sits on). Octal
// escapes (\040 for a space, \011, \012, \134) are decoded. Throws ckpt::Error naming the
// line on a malformed one.
std::vector<MountInfo> parse_mount_records(const std::string& text);

}  // namespace ckpt::checkpoint
