#include "runtime/checkpoint/injected_state.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include <cstring>

#include "common/error.h"
#include "runtime/checkpoint/timers_dump.h"
#include "runtime/task/memory.h"
#include "runtime/task/remote_syscall.h"

namespace ckpt::checkpoint {

namespace {

constexpr uint64_t kScratchSize = 4096;

// The kernel's struct sigaction for rt_sigaction on x86-64 (arch/x86/include/uapi/asm/signal.h
// via include/linux/signal_types.h): handler, flags, restorer, then the mask (sigsetsize 8).
struct KernelSigaction {
  uint64_t handler, flags, restorer, mask;
};

struct KernelStack {  // stack_t
  uint64_t sp;
  int32_t flags;
  int32_t pad;
  uint64_t size;
};

// Unmaps the scratch page when the collection ends, on every path; if the task is already
// gone there is nothing to unmap.
class ScratchPage {
 public:
  explicit ScratchPage(task::RemoteSyscaller& sc)
      : sc_(sc),
        addr_(static_cast<uint64_t>(sc.check("mmap", SYS_mmap, 0, kScratchSize,
                                             PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                                             -1ULL, 0))) {}
  ScratchPage(const ScratchPage&) = delete;
  ScratchPage& operator=(const ScratchPage&) = delete;
  ~ScratchPage() {
    if (addr_ == 0) return;
    try {
      sc_.call(SYS_munmap, addr_, kScratchSize);
    } catch (...) {
      // Destructors cannot report; release() is the checked path.
    }
  }
  void release() {
    sc_.check("munmap", SYS_munmap, addr_, kScratchSize);
    addr_ = 0;
  }
  uint64_t addr() const { return addr_; }

 private:
  task::RemoteSyscaller& sc_;
  uint64_t addr_;
};

template <typename T>
T read_remote(task::TaskMemory& mem, uint64_t addr) {
  T value{};
  mem.read(addr, &value, sizeof value);
  return value;
}

void collect_thread(task::RemoteSyscaller& sc, task::TaskMemory& mem, uint64_t scratch,
                    model::Thread& t) {
  sc.check("sigaltstack", SYS_sigaltstack, 0, scratch);
  auto ss = read_remote<KernelStack>(mem, scratch);
  t.altstack_sp = ss.sp;
  t.altstack_size = ss.size;
  t.altstack_flags = ss.flags;
  // PR_GET_TID_ADDRESS needs CONFIG_CHECKPOINT_RESTORE; without it the address stays unknown.
  if (sc.call(SYS_prctl, PR_GET_TID_ADDRESS, scratch) == 0)
    t.clear_child_tid = read_remote<uint64_t>(mem, scratch);
}

}  // namespace

void collect_injected_state(std::vector<task::SeizedTask>& threads, uint64_t signals,
                            model::Process& p) {
  task::SeizedTask& leader = threads.at(0);
  task::RemoteSyscaller sc(leader);
  task::TaskMemory mem(leader.tid());
  ScratchPage scratch(sc);
  uint64_t at = scratch.addr();

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
  for (size_t i = 1; i < threads.size(); ++i) {
    task::RemoteSyscaller tsc(threads[i], sc.syscall_address());
    collect_thread(tsc, mem, at, p.threads.at(i));
  }
  scratch.release();
}

}  // namespace ckpt::checkpoint
