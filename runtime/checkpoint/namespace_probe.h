// What the `namespaces` stage reads from the kernel, behind an interface so that the stage's
// decisions (namespace_check.h) are unit-tested with a fake (tests/unit/
// checkpoint_namespaces_test.cc); kernel_namespace_probe() is the real one.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>

#include "ns/uts.h"
#include "runtime/checkpoint/ipc_objects.h"

namespace ckpt::checkpoint {

class NamespaceProbe {
 public:
  virtual ~NamespaceProbe() = default;
  // The identity of a namespace of thread `host_tid` of process `host_pid`, as readlink(2) of
  // /proc/PID/task/TID/ns/NAME shows it ("mnt:[4026532329]"). `name` is a file of that
  // directory: mnt, net, uts, ipc, user, cgroup, time, pid_for_children, time_for_children...
  virtual std::string namespace_of(pid_t host_pid, pid_t host_tid, std::string_view name) const = 0;
  // The same for the process reading (the runtime): what the container shares with the host.
  virtual std::string own_namespace(std::string_view name) const = 0;
  // /proc/PID/mountinfo: the mount table of the process's mount namespace, seen from its root.
  virtual std::string mountinfo(pid_t host_pid) const = 0;
  // Hostname and domainname of the process's UTS namespace.
  virtual ns::UtsNames uts_names(pid_t host_pid) const = 0;
  // SysV and POSIX IPC objects of the process's IPC namespace.
  virtual IpcListing ipc_objects(pid_t host_pid) const = 0;
};

std::unique_ptr<NamespaceProbe> kernel_namespace_probe();

}  // namespace ckpt::checkpoint
