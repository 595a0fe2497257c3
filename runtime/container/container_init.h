// What the container's first process does between clone3 and exec, in its new namespaces:
// wait for the parent, hostname, mount tree, rlimits, credentials, cwd, exec. Runs in the child
// only; errors are sent to the parent as one line through `error_fd` and end the child.
#pragma once

#include <functional>

#include "config/spec.h"
#include "runtime/container/launcher.h"

namespace ckpt::runtime {

struct InitChannel {
  int go_fd = -1;     // read end: one byte from the parent when cgroup/maps/network are ready
  int error_fd = -1;  // write end, O_CLOEXEC: a message here means the start failed
  // O_CLOEXEC file: receives /proc/self/mountinfo once the mount tree is built, the table the
  // workload starts with (mount_baseline.h). Written before exec, so no workload code has run.
  int mountinfo_fd = -1;
};

// Never returns: execs the workload, or runs options.init_main and exits with its result.
[[noreturn]] void container_init(const config::ContainerSpec& spec, const InitChannel& channel,
                                 const LaunchOptions& options);

// Finds `program` along the PATH in `env` (like execvp), or returns "" if it is not there.
std::string resolve_program(const std::string& program, const std::vector<std::string>& env);

}  // namespace ckpt::runtime
