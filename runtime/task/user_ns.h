// A task's user namespace as /proc shows it to the caller: which namespace it is (the nsfs
// inode behind /proc/PID/ns/user) and, unless it is the caller's own, its uid/gid maps and
// setgroups mode. The kernel writes the maps' outside ids in the READER's namespace
// (kernel/user_namespace.c, uid_m_show), so a host reader sees host ids.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace ckpt::task {

struct UserNsId {
  uint64_t dev = 0, ino = 0;
  bool operator==(const UserNsId&) const = default;
};

// The namespace of /proc/PID/ns/user (stat follows the magic link to the nsfs inode).
UserNsId user_ns_id(pid_t pid);
// The caller's own user namespace.
UserNsId own_user_ns_id();

struct UserNsFiles {
  UserNsId id;
  bool callers_own = false;                 // the caller's own namespace: no maps are read
  std::string uid_map, gid_map, setgroups;  // the texts of /proc/PID/{uid_map,gid_map,setgroups}
};
UserNsFiles read_user_ns(pid_t pid);

}  // namespace ckpt::task
