// Per-thread state the kernel hands a tracer directly, for a thread in ptrace-stop: queued
// signals and the rseq registration (the blocked mask is task/guarded_syscall.h get_sigmask).
// (Registers come from task/registers.h; these three requests are not in the task layer, which only
// needs them when dumping.)
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ckpt::checkpoint {

// PTRACE_PEEKSIGINFO: every queued siginfo (raw 128 bytes each), without dequeuing them.
// shared = true reads the process-wide queue, else the thread's own.
std::vector<std::string> peek_pending(pid_t tid, bool shared);

// A thread's queued signals (raw siginfo, queue order) with each copy that
// SeizedTask::defer_current_signal() queued replaced by the original it stands for: a copy made
// with rt_tgsigqueueinfo is the original byte for byte; a tgkill copy is the first queued entry
// of that signal with si_code SI_TKILL. An original whose copy is not queued any more is appended,
// so it is never lost. Pure.
std::vector<std::string> with_original_siginfo(std::vector<std::string> queued,
                                               const std::vector<siginfo_t>& originals);

struct RseqConfig {
  uint64_t addr = 0;
  uint32_t len = 0, sig = 0;
};
// PTRACE_GET_RSEQ_CONFIGURATION (Linux 5.13+); addr 0 when the thread has none registered.
RseqConfig get_rseq(pid_t tid);

}  // namespace ckpt::checkpoint
