// The container's mount tree, built inside its new mount namespace by the container's first
// process before exec: private propagation, the rootfs bind-mounted (read-only by default) and
// pivot_root'ed into, a fresh /proc, a minimal /dev (null zero full random urandom tty, pts,
// shm), /sys read-only and the spec's bind and tmpfs mounts. Nothing propagates to the host.
#pragma once

#include <span>

#include "config/spec.h"

namespace ckpt::ns {

// A character device setup_rootfs creates in the container's /dev (OCI runtime spec, "Default
// Devices"); the checkpoint accepts these in /dev and refuses any other device node.
struct DefaultDevice {
  const char* name;  // under /dev
  unsigned major;
  unsigned minor;
};
std::span<const DefaultDevice> default_devices();

// Must be called in the child, in its new mount (and pid) namespace. Throws ckpt::Error naming
// the mount that failed.
void setup_rootfs(const config::ContainerSpec& spec);

void set_hostname(const std::string& hostname);

}  // namespace ckpt::ns
