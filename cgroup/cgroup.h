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

class Kernel;  // cgroup/kernel.h: the file and signal calls, replaceable by a fake in tests

// Which freezer stops the tasks. On a hybrid host both exist: the v2 one (cgroup.freeze in the
// unified hierarchy, which works on non-root cgroups even with no controllers attached) is
// preferred and the v1 freezer controller is the fallback. open() must be given the same choice
// as create() when it is not `automatic`.
enum class FreezerKind {
  automatic,  // v2 if the unified cgroup has cgroup.freeze, else the v1 freezer
  v2,
  v1,
};

struct Options {
  FreezerKind freezer = FreezerKind::automatic;
  std::shared_ptr<Kernel> kernel;  // null: the real kernel
};

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
  // The freezer in use (never `automatic`).
  virtual FreezerKind freezer() const = 0;

  virtual std::vector<pid_t> processes() const = 0;  // thread-group leaders, host pids
  virtual std::vector<pid_t> threads() const = 0;    // every thread, host tids
  // SIGKILL: kills every task (cgroup.kill on v2, else signals in a loop, thawing a frozen
  // cgroup so v1-frozen tasks can die) and returns when the cgroup is empty; throws naming the
  // cgroup and the survivors after `timeout`. Any other signal: delivered once to every task,
  // including tasks forked while signalling; does not wait for them to exit.
  virtual void kill_all(int sig, std::chrono::milliseconds timeout = std::chrono::seconds(10)) = 0;
  // Removes every directory; the cgroup must be empty (kill_all first).
  virtual void destroy() = 0;
};

// Creates /<parent>/<name> in every hierarchy that matters. Fails if it already exists.
// The directories are <mount>/crun-ckpt/<name> in the unified hierarchy and in each v1 hierarchy
// of memory, pids, cpu, cpuacct and freezer. On failure midway it removes what it made.
std::unique_ptr<Cgroup> create(const Layout& layout, const std::string& name,
                               const Options& options = {});
// Opens an existing container cgroup created by create() (the directories that still exist).
std::unique_ptr<Cgroup> open(const Layout& layout, const std::string& name,
                             const Options& options = {});

// The parent all container cgroups live under ("crun-ckpt").
constexpr const char* kParentName = "crun-ckpt";

}  // namespace ckpt::cgroup
