// Pieces shared by the verbs that bring a container up (run and restore): the state directory
// guard, the initial state record, and starting under a detached monitor.
#pragma once

#include <functional>
#include <string>

#include "runtime/container/launcher.h"
#include "runtime/container/lifecycle.h"
#include "runtime/container/state.h"

namespace ckpt::runtime {

// Removes the state directory unless keep() was called: a failed start leaves no state.
class StateDirGuard {
 public:
  StateDirGuard(const StateStore& store, std::string id) : store_(store), id_(std::move(id)) {}
  ~StateDirGuard();
  StateDirGuard(const StateDirGuard&) = delete;
  StateDirGuard& operator=(const StateDirGuard&) = delete;
  void keep() { keep_ = true; }

 private:
  const StateStore& store_;
  std::string id_;
  bool keep_ = false;
};

// The record published before anything of the container exists: still creating, created by
// this process.
ContainerState creating_state(const config::ContainerSpec& spec, const RunOptions& options);
// The record once the init runs (no longer creating).
ContainerState initial_state(const config::ContainerSpec& spec, const RunOptions& options,
                             LaunchedContainer& container, bool detached);
void write_pid_file(const std::string& path, pid_t pid);

// Forks a monitor process (double fork, new session, stdio to the container's log) that
// records itself as the creator, calls `start` — which must launch the container as the
// monitor's child, save its state and release it, returning the init's pid — then lets go of
// the creator lock `creator_lock` (inherited from us), reports success or the error line back
// and stays as the init's parent to record its exit. Returns 0 once the container runs; throws
// the error `start` threw.
int start_detached(const StateStore& store, const std::string& id, int creator_lock,
                   const std::function<pid_t()>& start);

}  // namespace ckpt::runtime
