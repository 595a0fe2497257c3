// Starting a container's first process: clone3 into new namespaces, place it in the cgroup,
// write id maps, wire the network, then let it build its mount tree and exec the workload.
//
// The order is forced by the kernel: the veth peer can only be moved into a network namespace
// that exists (so after clone3), the child must be in its cgroup before it runs workload code,
// and uid/gid maps must be written from outside before the child relies on its credentials.
// The child waits on a pipe for the parent to finish those steps.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "cgroup/cgroup.h"
#include "config/spec.h"
#include "ns/network.h"
#include "ns/uts.h"

namespace ckpt::runtime {

struct TimeOffsets {
  long long monotonic_ns = 0;
  long long boottime_ns = 0;
};

struct LaunchOptions {
  std::string id;
  // The --root of the container's state: recorded on its host links (ns/net_identity.h).
  std::string root;
  // Restore: a refused network identity hints at --network-detached.
  ns::StartKind start_kind = ns::StartKind::run;
  // The spec's interfaces inside, with no host side (ns::setup_detached_network).
  bool network_detached = false;
  // Runs in the container's first process once namespaces, cgroup, network, hostname and mount
  // tree are in place, instead of exec'ing spec.process (restore uses it for its stub). Its
  // return value is the exit status. Gets the fd of an extra pipe end (see extra_fd).
  std::function<int()> init_main;
  // Offsets of CLOCK_MONOTONIC/BOOTTIME in the new time namespace (restore keeps clocks
  // continuous with them). Needs Namespace::time.
  std::optional<TimeOffsets> time_offsets;
  // Fds the container's stdio gets (borrowed); -1 keeps the caller's.
  int stdio[3] = {-1, -1, -1};
  // Hostname and domainname for the new UTS namespace instead of spec.hostname (a restore
  // sets those the container had at its checkpoint). Needs Namespace::uts.
  std::optional<ns::UtsNames> uts;
};

// Owns everything a launched container holds on the host until release(): if destroyed first
// (a failed run), it kills the container, removes its network and its cgroup.
class LaunchedContainer {
 public:
  LaunchedContainer(ns::NetworkOwner owner, config::ContainerSpec spec, pid_t pid,
                    std::unique_ptr<cgroup::Cgroup> cgroup);
  LaunchedContainer(LaunchedContainer&&) = default;
  ~LaunchedContainer();

  pid_t pid() const { return pid_; }
  cgroup::Cgroup& cgroup() { return *cgroup_; }
  // The host keeps the container: nothing is torn down by the destructor any more.
  void release() { released_ = true; }
  void set_network_up() { network_up_ = true; }
  // The init was reaped by the caller: its pid must not be signalled any more.
  void mark_reaped() { pid_ = 0; }
  // /proc/PID/mountinfo of the init just before it exec'd (or started init_main).
  const std::string& initial_mountinfo() const { return initial_mountinfo_; }
  void set_initial_mountinfo(std::string text) { initial_mountinfo_ = std::move(text); }

 private:
  ns::NetworkOwner owner_;
  config::ContainerSpec spec_;
  pid_t pid_ = 0;
  std::unique_ptr<cgroup::Cgroup> cgroup_;
  bool network_up_ = false;
  bool released_ = false;
  std::string initial_mountinfo_;
};

// Checks what can be checked before anything is created (rlimits against the caller's hard
// limits, root or user namespace, network identities the host already holds unless the network
// is detached). Not the program: only the container's mounts show it.
void preflight(const config::ContainerSpec& spec, const LaunchOptions& options);

// Starts the container. Returns once the workload was exec'd (or init_main started); a failure
// of any step (including exec: "exec /bin/nope: No such file or directory") throws with nothing
// left behind. The child is a child of the calling process.
LaunchedContainer launch(const config::ContainerSpec& spec, const LaunchOptions& options);

// Removes everything a container holds on the host, whatever state it is in. Idempotent.
// `root` is the --root of its state: host links of a container of the same id under another
// root are not its own.
void teardown(const std::string& id, const config::ContainerSpec& spec, const std::string& root);

}  // namespace ckpt::runtime
