// Signal dispositions. The stub inherited the handlers of the process that forked it, so
// every signal gets the dumped action or SIG_DFL. Injected rt_sigaction takes the kernel's
// struct sigaction (x86-64: handler, flags, restorer, mask), not glibc's. The blocked mask is
// set with the registers (PTRACE_SETSIGMASK) so the stub stays fully blocked until then.
// Pending signals are queued by the task to itself, with their original siginfo.
#include <signal.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "common/error.h"
#include "runtime/restore/restore_context.h"

namespace ckpt::restore {

namespace {
struct KernelSigaction {
  uint64_t handler;
  uint64_t flags;
  uint64_t restorer;
  uint64_t mask;
};
}  // namespace

void restore_sigactions(ProcessContext& ctx) {
  std::map<int, const model::SigAction*> dumped;
  for (const model::SigAction& a : ctx.process.sigactions) {
    if (a.signo < 1 || a.signo > 64 || a.signo == SIGKILL || a.signo == SIGSTOP) {
      throw Error("sigaction for invalid signal " + std::to_string(a.signo));
    }
    dumped[a.signo] = &a;
  }
  for (int sig = 1; sig <= 64; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    KernelSigaction act{};
    if (auto it = dumped.find(sig); it != dumped.end()) {
      act = {it->second->handler, it->second->flags, it->second->restorer, it->second->mask};
    }
    uint64_t addr = ctx.put(&act, sizeof(act));
    with_context("signal " + std::to_string(sig), [&] {
      ctx.remote.check("rt_sigaction", SYS_rt_sigaction, sig, addr, 0, sizeof(uint64_t));
    });
  }
}

namespace {

// Queues one dumped siginfo into the task by the task itself: only a process signalling
// itself may queue a siginfo with a kernel si_code (kernel/signal.c do_rt_sigqueueinfo).
void queue_pending(ProcessContext& ctx, const model::PendingSignal& sig, pid_t tid,
                   bool whole_process) {
  if (sig.siginfo.size() != sizeof(siginfo_t)) {
    throw Error("pending signal with a " + std::to_string(sig.siginfo.size()) +
                "-byte siginfo, expected " + std::to_string(sizeof(siginfo_t)));
  }
  siginfo_t info;
  std::memcpy(&info, sig.siginfo.data(), sizeof(info));
  uint64_t addr = ctx.put(&info, sizeof(info));
  with_context("pending signal " + std::to_string(info.si_signo), [&] {
    if (whole_process) {
      ctx.remote.check("rt_sigqueueinfo", SYS_rt_sigqueueinfo, ctx.process.pid, info.si_signo,
                       addr);
    } else {
      ctx.remote.check("rt_tgsigqueueinfo", SYS_rt_tgsigqueueinfo, ctx.process.pid, tid,
                       info.si_signo, addr);
    }
  });
}

}  // namespace

namespace {

// Takes every signal already pending in the stub off its queues, so the restored process holds
// exactly the dumped ones. The stub blocks everything, so what reached it stayed queued: above
// all the SIGCHLD of a zombie child's stub exiting (stub.cc). Ignoring SIGCHLD in the stub
// instead would not do: SIG_IGN makes the kernel reap the child at once (do_notify_parent).
// rt_sigtimedwait with a zero timeout dequeues one signal (thread or process queue) per call
// and fails with EAGAIN once none is left; usually that is the first and only call.
void flush_stub_signals(ProcessContext& ctx) {
  uint64_t all = ~0ull;
  struct timespec zero = {0, 0};
  uint64_t set_addr = ctx.put(&all, sizeof(all), 0);
  uint64_t ts_addr = ctx.put(&zero, sizeof(zero), 64);
  for (int i = 0; i < 1024; ++i) {
    long r = ctx.remote.call(SYS_rt_sigtimedwait, set_addr, 0, ts_addr, sizeof(uint64_t));
    if (r == -EAGAIN) return;
    if (r < 0 && r != -EINTR) throw Error("remote rt_sigtimedwait (flush the stub's signals)", -r);
  }
  throw Error("the stub keeps receiving signals; cannot flush its pending signals");
}

}  // namespace

void restore_pending_signals(ProcessContext& ctx) {
  flush_stub_signals(ctx);
  // The stub blocks every signal until the registers stage sets the dumped mask, so nothing
  // queued here is delivered before the task runs its own code again.
  for (const model::PendingSignal& s : ctx.process.shared_pending) {
    queue_pending(ctx, s, ctx.process.pid, true);
  }
  restore_thread_pending(ctx, ctx.process.threads.at(0));
}

void restore_thread_pending(ProcessContext& ctx, const model::Thread& thread) {
  // Run in `thread` itself: rt_tgsigqueueinfo accepts a kernel si_code only when the caller's
  // own tid is the target (kernel/signal.c do_rt_tgsigqueueinfo), not from the leader.
  for (const model::PendingSignal& s : thread.pending) queue_pending(ctx, s, thread.tid, false);
}

}  // namespace ckpt::restore
