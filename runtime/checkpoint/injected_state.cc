#include "runtime/checkpoint/injected_state.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include <cstring>

#include "common/error.h"
#include "runtime/checkpoint/timers_dump.h"
#include "runtime/task/guarded_syscall.h"
#include "runtime/task/maps.h"
#include "runtime/task/memory.h"

namespace ckpt::checkpoint {

namespace {

// The kernel's struct sigaction for rt_sigaction on x86-64 (arch/x86/include/uapi/asm/signal.h
// via include/linux/signal_types.h): handler, flags, restorer, then the mask (sigsetsize 8).
struct KernelSigaction {
  uint64_t handler, flags, restorer, mask;
};

template <typename T>
T read_remote(task::TaskMemory& mem, uint64_t addr) {
  T value{};
  mem.read(addr, &value, sizeof value);
  return value;
}

void collect_thread(task::Syscaller& sc, task::TaskMemory& mem, uint64_t scratch,
                    model::Thread& t) {
  sc.check("sigaltstack", SYS_sigaltstack, 0, scratch);
  auto ss = read_remote<task::KernelStack>(mem, scratch);
  t.altstack_sp = ss.sp;
  t.altstack_size = ss.size;
  t.altstack_flags = ss.flags;
  // PR_GET_TID_ADDRESS needs CONFIG_CHECKPOINT_RESTORE; without it the address stays unknown.
  if (sc.call(SYS_prctl, PR_GET_TID_ADDRESS, scratch) == 0)
    t.clear_child_tid = read_remote<uint64_t>(mem, scratch);
}

}  // namespace

void collect_injected_state(std::vector<task::SeizedTask>& threads, uint64_t signals,
                            model::Process& p, task::GadgetFinder& gadgets) {
  task::SeizedTask& leader = threads.at(0);
  task::Gadgets code = gadgets.find(leader.tid());
  // One reading serves every thread's guard: the threads are stopped, the layout cannot change.
  std::vector<task::MapEntry> maps = task::read_maps(leader.tid());
  task::TaskMemory mem(leader.tid());
  {
    task::GuardedSyscaller sc(leader, code, maps);
    uint64_t at = sc.scratch();

    p.mm.brk = static_cast<uint64_t>(sc.check("brk", SYS_brk, 0));

    p.sigactions.clear();
    for (int sig = 1; sig <= 64; ++sig) {
      if ((signals & (1ULL << (sig - 1))) == 0 || sig == SIGKILL || sig == SIGSTOP) continue;
      sc.check("rt_sigaction", SYS_rt_sigaction, static_cast<uint64_t>(sig), 0, at, 8);
      auto act = read_remote<KernelSigaction>(mem, at);
      if (act.handler == 0) continue;  // SIG_DFL
      p.sigactions.push_back(model::SigAction{sig, act.handler, act.flags, act.restorer, act.mask});
    }

    p.dumpable = static_cast<int>(sc.check("prctl(PR_GET_DUMPABLE)", SYS_prctl, PR_GET_DUMPABLE));
    p.securebits =
        static_cast<uint32_t>(sc.check("prctl(PR_GET_SECUREBITS)", SYS_prctl, PR_GET_SECUREBITS));
    sc.check("prctl(PR_GET_PDEATHSIG)", SYS_prctl, PR_GET_PDEATHSIG, at);
    p.pdeath_signal = read_remote<int32_t>(mem, at);
    sc.check("prctl(PR_GET_CHILD_SUBREAPER)", SYS_prctl, PR_GET_CHILD_SUBREAPER, at);
    p.child_subreaper = read_remote<int32_t>(mem, at) != 0;

    ThreadIds ids;  // host tid -> container tid, to name SIGEV_THREAD_ID targets
    for (size_t i = 0; i < threads.size(); ++i)
      ids.emplace_back(threads[i].tid(), p.threads.at(i).tid);
    collect_timers(sc, mem, at, ids, p);

    collect_thread(sc, mem, at, p.threads.at(0));
    sc.finish();
  }
  for (size_t i = 1; i < threads.size(); ++i) {
    task::GuardedSyscaller tsc(threads[i], code, maps);
    collect_thread(tsc, mem, tsc.scratch(), p.threads.at(i));
    tsc.finish();
  }
}

}  // namespace ckpt::checkpoint
