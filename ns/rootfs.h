// The container's mount tree, built inside its new mount namespace by the container's first
// process before exec: private propagation, the rootfs bind-mounted (read-only by default) and
// pivot_root'ed into, a fresh /proc, a minimal /dev (null zero full random urandom tty, pts,
// shm), /sys read-only and the spec's bind and tmpfs mounts. Nothing propagates to the host.
#pragma once

#include "config/spec.h"

namespace ckpt::ns {

// Must be called in the child, in its new mount (and pid) namespace. Throws ckpt::Error naming
// the mount that failed.
void setup_rootfs(const config::ContainerSpec& spec);

void set_hostname(const std::string& hostname);

}  // namespace ckpt::ns
