// What only the task itself can tell, asked through syscalls injected into it while it sits in
// ptrace-stop (task/remote_syscall.h): signal handlers, current brk, prctl-only attributes,
// interval and POSIX timers (timers_dump.h), and per thread the sigaltstack and
// clear_child_tid. Results land in a scratch page mmapped into the task for the occasion and
// unmapped before returning, so the memory dump that follows sees the original layout.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/model/task_model.h"
#include "runtime/task/ptrace_attachment.h"

namespace ckpt::checkpoint {

// `threads[i]` is the seized thread of p.threads[i] (leader first); all in ptrace-stop.
// `signals` is the set of signals (bit n-1 for signal n) whose action is not SIG_DFL, from
// /proc/PID/status SigCgt|SigIgn: only those are queried.
void collect_injected_state(std::vector<task::SeizedTask>& threads, uint64_t signals,
                            model::Process& p);

}  // namespace ckpt::checkpoint
