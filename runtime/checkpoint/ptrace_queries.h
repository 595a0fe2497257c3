// Per-thread state the kernel hands a tracer directly, for a thread in ptrace-stop: blocked
// signal mask, queued signals and the rseq registration. (Registers come from task/registers.h;
// these three requests are not in the task layer, which only needs them when dumping.)
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ckpt::checkpoint {

// PTRACE_GETSIGMASK.
uint64_t get_sigmask(pid_t tid);

// PTRACE_PEEKSIGINFO: every queued siginfo (raw 128 bytes each), without dequeuing them.
// shared = true reads the process-wide queue, else the thread's own.
std::vector<std::string> peek_pending(pid_t tid, bool shared);

struct RseqConfig {
  uint64_t addr = 0;
  uint32_t len = 0, sig = 0;
};
// PTRACE_GET_RSEQ_CONFIGURATION (Linux 5.13+); addr 0 when the thread has none registered.
RseqConfig get_rseq(pid_t tid);

}  // namespace ckpt::checkpoint
