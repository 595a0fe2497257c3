// What the container's first process does between clone3 and exec, in its new namespaces:
// wait for the parent, hostname, mount tree, rlimits, credentials, cwd, exec. Runs in the child
// only; errors are sent to the parent as one line through `error_fd` and end the child.
#pragma once

#include <functional>

#include "config/spec.h"

namespace ckpt::runtime {

struct InitChannel {
  int go_fd = -1;     // read end: one byte from the parent when cgroup/maps/network are ready
  int error_fd = -1;  // write end, O_CLOEXEC: a message here means the start failed
};

// Never returns: execs the workload, or runs `init_main` and exits with its result.
[[noreturn]] void container_init(const config::ContainerSpec& spec, const InitChannel& channel,
                                 const std::function<int()>& init_main, const int stdio[3]);

// Finds `program` along the PATH in `env` (like execvp), or returns "" if it is not there.
std::string resolve_program(const std::string& program, const std::vector<std::string>& env);

}  // namespace ckpt::runtime
