// Waiting for a container's init as its parent: forwarding signals in the foreground, recording
// the exit status as a detached monitor. Shared by run and restore.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include "common/unique_fd.h"

namespace ckpt::runtime {

// Blocks the signals a foreground container should receive (and SIGCHLD) and returns a
// signalfd for them. Call before launching so none is lost; the child unblocks them.
class ForwardedSignals {
 public:
  ForwardedSignals();
  ~ForwardedSignals();
  ForwardedSignals(const ForwardedSignals&) = delete;
  ForwardedSignals& operator=(const ForwardedSignals&) = delete;

  // Waits for `pid` to exit, forwarding every other signal to it; returns the wait status.
  int wait_forwarding(pid_t pid);

 private:
  sigset_t old_mask_;
  UniqueFd fd_;
};

// Reaps `pid` (blocking, EINTR-safe) and returns its wait status.
int wait_for_exit(pid_t pid);

}  // namespace ckpt::runtime
