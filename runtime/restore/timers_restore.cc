// Timers: interval timers by injected setitimer, POSIX timers by injected timer_create with the
// dumped ids, then timer_settime with the remaining time. Both are armed relative to now: the
// container's CLOCK_MONOTONIC/BOOTTIME continue across the restore (time namespace offsets,
// container/clocks.h), so a timer fires no earlier than it would have without the checkpoint,
// late by exactly the time between arming and the container's resume.
//
// Runs after restore_threads (a SIGEV_THREAD_ID target and a thread CPU clock must name an
// existing thread) and before restore_credentials (creating an id on request and alarm clocks
// need privileges the dumped process may lack). The overrun count cannot be set: it restarts
// at 0, and a timer signal that was pending keeps its si_overrun because restore_pending_signals
// re-queues the dumped siginfo (SI_TIMER) as is.
#include "runtime/restore/timers_restore.h"

#include <signal.h>
#include <sys/syscall.h>

#include <cerrno>

#include "common/error.h"
#include "runtime/restore/restore_context.h"

namespace ckpt::restore {

namespace {

// prctl(PR_TIMER_CREATE_RESTORE_IDS, ...) from include/uapi/linux/prctl.h of Linux 6.15; the
// installed headers predate it. While ON, timer_create takes the wanted id from *timerid and
// fails with EBUSY if it is taken; the setting is per process (signal_struct).
constexpr int kPrTimerCreateRestoreIds = 77;
constexpr int kRestoreIdsOff = 0;
constexpr int kRestoreIdsOn = 1;

// Ids to fill and delete on kernels without the prctl; each filler is a kernel object and a
// preallocated sigqueue entry, so a process whose ids went far up is refused instead.
constexpr size_t kMaxFillers = 1024;

// The kernel's struct sigevent (include/uapi/asm-generic/siginfo.h): 64 bytes, the target tid
// of SIGEV_THREAD_ID first in the union.
struct KernelSigevent {
  uint64_t value;
  int32_t signo;
  int32_t notify;
  int32_t tid;
  int32_t pad[11];
};
static_assert(sizeof(KernelSigevent) == 64);

constexpr size_t kTimerIdOffset = sizeof(KernelSigevent);

// Creates one timer; with `requested` >= 0 asks for that id (restore mode on). Returns the id
// the kernel gave.
int create_timer(ProcessContext& ctx, int clock, const KernelSigevent& sev, int requested) {
  uint64_t sev_addr = ctx.put(&sev, sizeof sev);
  int32_t id = requested;
  uint64_t id_addr = ctx.put(&id, sizeof id, kTimerIdOffset);
  ctx.remote.check("timer_create", SYS_timer_create, static_cast<uint64_t>(clock), sev_addr,
                   id_addr);
  ctx.memory.read(id_addr, &id, sizeof id);
  return id;
}

KernelSigevent sigevent_of(const model::PosixTimer& t) {
  KernelSigevent sev{};
  sev.value = t.sigev_value;
  sev.signo = t.signo;
  sev.notify = t.notify;
  // The dumped tid is the container's view, the same in the restored pid namespace, where the
  // injected timer_create resolves it (kernel/time/posix-timers.c good_sigevent).
  if ((t.notify & SIGEV_THREAD_ID) != 0) sev.tid = t.notify_tid;
  return sev;
}

// Turns restore mode off on every path: left on, a later timer_create of the workload would
// read its id from uninitialised memory.
class RestoreIdsMode {
 public:
  explicit RestoreIdsMode(task::RemoteSyscaller& remote) : remote_(remote) {}
  RestoreIdsMode(const RestoreIdsMode&) = delete;
  RestoreIdsMode& operator=(const RestoreIdsMode&) = delete;
  // Returns 0 or -errno (EINVAL: the kernel lacks the option).
  long enable() {
    long r = remote_.call(SYS_prctl, kPrTimerCreateRestoreIds, kRestoreIdsOn, 0, 0, 0);
    on_ = r == 0;
    return r;
  }
  void disable() {
    remote_.check("prctl(PR_TIMER_CREATE_RESTORE_IDS, OFF)", SYS_prctl, kPrTimerCreateRestoreIds,
                  kRestoreIdsOff, 0, 0, 0);
    on_ = false;
  }
  ~RestoreIdsMode() {
    if (!on_) return;
    try {
      remote_.call(SYS_prctl, kPrTimerCreateRestoreIds, kRestoreIdsOff, 0, 0, 0);
    } catch (...) {
      // The restore is failing already and its tasks are killed; disable() is the checked path.
    }
  }

 private:
  task::RemoteSyscaller& remote_;
  bool on_ = false;
};

void create_with_ids(ProcessContext& ctx) {
  for (const model::PosixTimer& t : ctx.process.posix_timers) {
    with_context("POSIX timer " + std::to_string(t.id), [&] {
      int got = create_timer(ctx, t.clock_id, sigevent_of(t), t.id);
      if (got != t.id) throw Error("timer_create returned id " + std::to_string(got));
    });
  }
}

// Kernels before 6.15: ids come from a per-process counter starting at 0 in the new stub, so
// creating ids 0..max in order and deleting the fillers leaves exactly the dumped ids.
void create_in_order(ProcessContext& ctx) {
  const auto& timers = ctx.process.posix_timers;
  std::vector<int> wanted;
  for (const model::PosixTimer& t : timers) wanted.push_back(t.id);
  std::vector<int> fillers = filler_timer_ids(wanted, kMaxFillers);
  KernelSigevent silent{};
  silent.notify = SIGEV_NONE;
  size_t next = 0;
  for (int id = 0; next < timers.size(); ++id) {
    bool real = timers[next].id == id;
    int got = with_context("POSIX timer " + std::to_string(id), [&] {
      return real ? create_timer(ctx, timers[next].clock_id, sigevent_of(timers[next]), -1)
                  : create_timer(ctx, CLOCK_MONOTONIC, silent, -1);
    });
    if (got != id) {
      throw Error("timer_create gave id " + std::to_string(got) + " where id " +
                      std::to_string(id) + " was due; this kernel neither lets the restore " +
                      "choose timer ids nor allocates them in order",
                  0, "restore on Linux 6.15 or later (PR_TIMER_CREATE_RESTORE_IDS)");
    }
    if (real) ++next;
  }
  for (int id : fillers)
    ctx.remote.check("timer_delete (filler)", SYS_timer_delete, static_cast<uint64_t>(id));
}

void restore_itimers(ProcessContext& ctx) {
  for (const model::ITimer& t : ctx.process.itimers) {
    if (t.which != ITIMER_REAL && t.which != ITIMER_VIRTUAL && t.which != ITIMER_PROF)
      throw Error("interval timer of unknown kind " + std::to_string(t.which));
    struct itimerval tv {};
    // A periodic timer dumped between its expiry and the dequeue of its SIGALRM (value 0; the
    // signal is restored as pending) cannot be set up that way: setitimer with value 0 disarms.
    // Arm it one interval ahead, as the dequeue would have re-armed it.
    tv.it_value = ns_to_timeval(t.value_ns != 0 ? t.value_ns : t.interval_ns);
    tv.it_interval = ns_to_timeval(t.interval_ns);
    uint64_t addr = ctx.put(&tv, sizeof tv);
    with_context("interval timer " + std::to_string(t.which), [&] {
      ctx.remote.check("setitimer", SYS_setitimer, static_cast<uint64_t>(t.which), addr, 0);
    });
  }
}

}  // namespace

struct timespec ns_to_timespec(uint64_t ns) {
  struct timespec ts {};
  ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000ULL);
  ts.tv_nsec = static_cast<long>(ns % 1'000'000'000ULL);
  return ts;
}

struct timeval ns_to_timeval(uint64_t ns) {
  uint64_t us = (ns + 999) / 1000;
  struct timeval tv {};
  tv.tv_sec = static_cast<time_t>(us / 1'000'000ULL);
  tv.tv_usec = static_cast<suseconds_t>(us % 1'000'000ULL);
  return tv;
}

std::vector<int> filler_timer_ids(const std::vector<int>& wanted, size_t max_fillers) {
  std::vector<int> fillers;
  int expect = 0;
  for (size_t i = 0; i < wanted.size(); ++i) {
    if (wanted[i] < 0 || (i > 0 && wanted[i] <= wanted[i - 1]))
      throw Error("POSIX timer ids are not distinct, ascending and non-negative at id " +
                  std::to_string(wanted[i]));
    if (static_cast<size_t>(wanted[i] - expect) + fillers.size() > max_fillers) {
      throw Error("POSIX timer " + std::to_string(wanted[i]) + " would need more than " +
                      std::to_string(max_fillers) +
                      " filler timers on a kernel that cannot create a timer with a given id",
                  0, "restore on Linux 6.15 or later (PR_TIMER_CREATE_RESTORE_IDS)");
    }
    for (int id = expect; id < wanted[i]; ++id) fillers.push_back(id);
    expect = wanted[i] + 1;
  }
  return fillers;
}

void restore_timers(ProcessContext& ctx) {
  restore_itimers(ctx);
  const auto& timers = ctx.process.posix_timers;
  if (timers.empty()) return;
  {
    RestoreIdsMode mode(ctx.remote);
    long r = mode.enable();
    if (r == 0) {
      create_with_ids(ctx);
      mode.disable();
    } else if (r == -EINVAL) {
      create_in_order(ctx);
    } else {
      throw Error("prctl(PR_TIMER_CREATE_RESTORE_IDS, ON)", static_cast<int>(-r));
    }
  }
  for (const model::PosixTimer& t : timers) {
    if (t.value_ns == 0) continue;  // dumped disarmed: timer_create leaves it so
    struct itimerspec its {};
    its.it_value = ns_to_timespec(t.value_ns);
    its.it_interval = ns_to_timespec(t.interval_ns);
    uint64_t addr = ctx.put(&its, sizeof its);
    with_context("POSIX timer " + std::to_string(t.id), [&] {
      ctx.remote.check("timer_settime", SYS_timer_settime, static_cast<uint64_t>(t.id), 0, addr, 0);
    });
  }
}

}  // namespace ckpt::restore
