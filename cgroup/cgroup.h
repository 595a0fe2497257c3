// One cgroup per container, on whatever layout the host has:
//  - unified: cgroup v2 at /sys/fs/cgroup (a normal modern host);
//  - hybrid: cgroup v2 at /sys/fs/cgroup/unified with the controllers (memory, pids, cpu,
//    freezer, ...) on v1 hierarchies under /sys/fs/cgroup/<controller> (this CI machine).
// The Cgroup object hides which file in which hierarchy does what. Freeze and thaw return only
// when the kernel reports every task frozen (or running again).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/spec.h"

namespace ckpt::cgroup {

// Where the hierarchies are mounted; read from /proc/self/mountinfo.
struct Layout {
  std::string unified;  // v2 mount point, empty if none
  // v1 controller name -> mount point ("memory" -> /sys/fs/cgroup/memory). Empty on pure v2.
  std::vector<std::pair<std::string, std::string>> v1;
  bool pure_v2() const { return v1.empty() && !unified.empty(); }
  std::optional<std::string> v1_mount(const std::string& controller) const;
};

Layout detect_layout();
// Parses the text of a mountinfo file (unit-tested with fixtures).
Layout parse_layout(const std::string& mountinfo);

class Cgroup {
 public:
  virtual ~Cgroup() = default;

  // A path that identifies the cgroup to a person (the v2 path, or the v1 freezer path).
  virtual std::string path() const = 0;
  // Every directory backing this cgroup (one per hierarchy), for `state` and for cleanup.
  virtual std::vector<std::string> directories() const = 0;

  virtual void add_process(pid_t pid) = 0;
  virtual void apply(const config::Resources& resources) = 0;

  // Blocks until every task is frozen (v2: cgroup.events "frozen 1"; v1: freezer.state FROZEN).
  virtual void freeze(std::chrono::milliseconds timeout = std::chrono::seconds(10)) = 0;
  virtual void thaw(std::chrono::milliseconds timeout = std::chrono::seconds(10)) = 0;
  virtual bool frozen() const = 0;

  virtual std::vector<pid_t> processes() const = 0;  // thread-group leaders, host pids
  virtual std::vector<pid_t> threads() const = 0;    // every thread, host tids
  // Sends `sig` to every task until none is left (SIGKILL also thaws a frozen cgroup first).
  virtual void kill_all(int sig) = 0;
  // Removes every directory; the cgroup must be empty (kill_all first).
  virtual void destroy() = 0;
};

// Creates /<parent>/<name> in every hierarchy that matters. Fails if it already exists.
std::unique_ptr<Cgroup> create(const Layout& layout, const std::string& name);
// Opens an existing container cgroup created by create().
std::unique_ptr<Cgroup> open(const Layout& layout, const std::string& name);

// The parent all container cgroups live under ("crun-ckpt").
constexpr const char* kParentName = "crun-ckpt";

}  // namespace ckpt::cgroup
