// Who recovers a checkpoint that is killed (SIGKILL, OOM) at any instant: a small guardian
// process the checkpoint forks before it changes anything. The guardian watches a socket to the
// checkpoint; EOF without a final "done" means the checkpoint died, and the guardian then puts
// the container back as the checkpoint found it and removes the partial image, within the time
// the kernel takes to reap the dead process, with no user command.
//
// Why a guardian and not the container's monitor: a foreground container (`run` without -d)
// has no monitor, and a monitor killed earlier would leave nobody. Its own session keeps a
// terminal's SIGINT/SIGHUP to the checkpoint's process group away from it; PR_SET_PDEATHSIG is
// not relied upon (it fires on the death of the forking thread, not of the process).
//
// Two phases, one per side of the commit point:
//  - undo (from the start): the freezer goes back to its state before the checkpoint (a paused
//    container stays paused, a running one is thawed) and every partial of the image path
//    whose writer is gone is removed (image/partial.h). A committed image is never touched: it
//    no longer has a partial name.
//  - finish (after stopping()): the image is complete, verified and durable, and the container
//    was being stopped; the guardian completes that (kill, cgroups, network, state directory),
//    so the name is free for the restore.
// The guardian holds the checkpoint lock (inherited) until it is done, so a new checkpoint of
// the container waits for the recovery instead of racing it.
#pragma once

#include <sys/types.h>

#include <string>

#include "cgroup/cgroup.h"
#include "common/unique_fd.h"
#include "config/spec.h"
#include "runtime/container/state.h"

namespace ckpt::runtime {

// What the guardian needs to undo or finish a checkpoint; copied into it by fork.
struct GuardedCheckpoint {
  const StateStore* store = nullptr;
  std::string id;
  const config::ContainerSpec* spec = nullptr;
  cgroup::Cgroup* cgroup = nullptr;
  bool was_frozen = false;   // the freezer state to put back
  std::string image_path;    // whose stale partials to remove
  pid_t monitor_pid = 0;     // a detached container's monitor (finish waits for it)
  int checkpoint_lock = -1;  // kept open by the guardian until it exits
};

class CheckpointGuardian {
 public:
  // Forks the guardian and returns once it watches this process. Throws if it cannot start:
  // a checkpoint nobody could recover does not begin.
  explicit CheckpointGuardian(const GuardedCheckpoint& what);
  // Tells the guardian that this process has put everything in order itself (success, or a
  // failure its own owners undid) and reaps it.
  ~CheckpointGuardian();
  CheckpointGuardian(const CheckpointGuardian&) = delete;
  CheckpointGuardian& operator=(const CheckpointGuardian&) = delete;

  // The commit point is passed: from now on a death of this process is finished, not undone.
  void stopping();

 private:
  pid_t pid_ = 0;
  UniqueFd channel_;
};

}  // namespace ckpt::runtime
