// Which namespaces a container gets, and joining them (for `exec`).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "config/spec.h"

namespace ckpt::ns {

// CLONE_NEW* flags for clone3 (CLONE_NEWTIME is only valid through clone3 or unshare).
uint64_t clone_flags(const config::ContainerSpec& spec);

// Moves the calling (single-threaded) process into every namespace of `pid` that the spec
// created, in the order the kernel needs (user first). The pid namespace applies to children.
void join_namespaces(pid_t pid, const config::ContainerSpec& spec);

// Writes uid_map/gid_map (and setgroups=deny unless setgroups_allowed) for a child in a new
// user namespace.
void write_id_maps(pid_t pid, const config::ContainerSpec& spec);

// Whether the container's user namespace lets its processes call setgroups(2): only when the
// spec gives additional_gids (then the init sets them, dropping every group it inherited);
// otherwise setgroups is "deny", which cannot be undone once gid_map is written.
bool setgroups_allowed(const config::ContainerSpec& spec);

}  // namespace ckpt::ns
