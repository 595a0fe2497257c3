// Per-process and per-thread settings that are not memory, files or signals. Most are set by
// the task itself (injected prctl/personality/sigaltstack/set_tid_address); rlimits and the
// scheduler take a pid and are set from outside. rlimits come after the address space and
// files so a low RLIMIT_NOFILE/RLIMIT_DATA in the image cannot break those stages.
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "common/error.h"
#include "runtime/restore/restore_context.h"

namespace ckpt::restore {

void restore_thread_state(ProcessContext& ctx, const model::Thread& t) {
  if (t.altstack_sp != 0 || t.altstack_size != 0) {
    stack_t ss{};
    ss.ss_sp = reinterpret_cast<void*>(t.altstack_sp);
    ss.ss_size = t.altstack_size;
    ss.ss_flags = t.altstack_flags & ~SS_ONSTACK;  // SS_ONSTACK is a state, not a setting
    uint64_t addr = ctx.put(&ss, sizeof(ss));
    ctx.remote.check("sigaltstack", SYS_sigaltstack, addr, 0);
  }
  if (t.clear_child_tid != 0) ctx.remote.call(SYS_set_tid_address, t.clear_child_tid);
  if (!t.comm.empty()) {
    // A thread's own name: PR_SET_NAME names the calling thread only, so this runs in `t`.
    char comm[16] = {};
    t.comm.copy(comm, sizeof comm - 1);
    uint64_t addr = ctx.put(comm, sizeof comm);
    ctx.remote.check("prctl(PR_SET_NAME) of a thread", SYS_prctl, PR_SET_NAME, addr);
  }
  if (t.rseq_addr != 0) {
    // The area is back in memory by now; the kernel refreshes its cpu fields on return.
    ctx.remote.check("rseq", SYS_rseq, t.rseq_addr, t.rseq_len, 0, t.rseq_sig);
  }
}

void restore_process_state(ProcessContext& ctx) {
  const model::Process& p = ctx.process;
  const model::Thread& t = p.threads.at(0);
  ctx.remote.check("personality", SYS_personality, p.personality);

  restore_thread_state(ctx, t);

  // The stub carries the name of the process it was forked from; ps and /proc/PID/comm must
  // show the dumped one (at most 15 bytes and a NUL, like the kernel's TASK_COMM_LEN).
  if (!p.comm.empty()) {
    char comm[16] = {};
    p.comm.copy(comm, sizeof comm - 1);
    uint64_t addr = ctx.put(comm, sizeof comm);
    ctx.remote.check("prctl(PR_SET_NAME)", SYS_prctl, PR_SET_NAME, addr);
  }
  ctx.remote.check("prctl(PR_SET_PDEATHSIG)", SYS_prctl, PR_SET_PDEATHSIG, p.pdeath_signal);
  ctx.remote.check("prctl(PR_SET_CHILD_SUBREAPER)", SYS_prctl, PR_SET_CHILD_SUBREAPER,
                   p.child_subreaper ? 1 : 0);

  for (const model::Rlimit& r : p.rlimits) {
    rlimit64 lim{r.soft, r.hard};
    if (prlimit64(ctx.host_pid, static_cast<__rlimit_resource>(r.resource), &lim, nullptr) != 0) {
      throw sys_error("prlimit resource " + std::to_string(r.resource) + " of task " +
                      std::to_string(ctx.host_pid));
    }
  }
  if (p.sched_policy != SCHED_OTHER || p.sched_priority != 0) {
    sched_param sp{};
    sp.sched_priority = p.sched_priority;
    if (sched_setscheduler(ctx.host_pid, p.sched_policy, &sp) != 0) {
      throw sys_error("sched_setscheduler of task " + std::to_string(ctx.host_pid));
    }
  }
  if (setpriority(PRIO_PROCESS, ctx.host_pid, p.nice) != 0) {
    throw sys_error("setpriority of task " + std::to_string(ctx.host_pid));
  }
}

}  // namespace ckpt::restore
