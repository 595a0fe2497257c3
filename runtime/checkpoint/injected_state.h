// What only the task itself can tell, asked through syscalls injected into it while it sits in
// ptrace-stop: signal handlers, current brk, prctl-only attributes, interval and POSIX timers
// (timers_dump.h), and per thread the sigaltstack and clear_child_tid. Every call is guarded
// (task/guarded_syscall.h): if the checkpoint dies at any instant, each thread returns to its
// own context by itself. Results land in the guard's scratch below the thread's stack, which is
// put back before returning, so the memory dump that follows sees the task as it was.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/model/task_model.h"
#include "runtime/task/gadgets.h"
#include "runtime/task/ptrace_attachment.h"

namespace ckpt::checkpoint {

// `threads[i]` is the seized thread of p.threads[i] (leader first); all in ptrace-stop.
// `signals` is the set of signals (bit n-1 for signal n) whose action is not SIG_DFL, from
// /proc/PID/status SigCgt|SigIgn: only those are queried.
// `gadgets` caches the code the guards return through (shared by a dump's processes).
void collect_injected_state(std::vector<task::SeizedTask>& threads, uint64_t signals,
                            model::Process& p, task::GadgetFinder& gadgets);

}  // namespace ckpt::checkpoint
