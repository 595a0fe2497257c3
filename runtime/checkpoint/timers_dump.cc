#include "runtime/checkpoint/timers_dump.h"

#include <signal.h>
#include <sys/syscall.h>

#include <algorithm>
#include <charconv>
#include <optional>

#include "common/error.h"
#include "common/file_util.h"

namespace ckpt::checkpoint {

namespace {

template <typename T>
std::optional<T> number(std::string_view text, int base = 10) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The CPU-clock encoding of include/linux/posix-timers_types.h: a negative clockid_t carries
// ~pid << 3, a per-thread bit (4) and the clock kind in the low two bits (3 = CLOCKFD, a
// dynamic posix clock reached through an fd).
constexpr int kCpuClockPerThread = 4;
constexpr int kCpuClockMask = 3;
constexpr int kClockFd = 3;
pid_t cpu_clock_pid(int clock) {
  return static_cast<pid_t>(~(clock >> 3));
}

bool restorable_clock(int clock) {
  switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_MONOTONIC:
    case CLOCK_BOOTTIME:
    case CLOCK_REALTIME_ALARM:
    case CLOCK_BOOTTIME_ALARM:
    case CLOCK_TAI:
      return true;
    default:
      return false;
  }
}

void parse_notify(std::string_view value, ProcTimer& t, const std::string& where) {
  // "<how>/<pid|tid>.<n>": how the timer notifies, and which pid or thread it signals.
  size_t slash = value.find('/');
  size_t dot = value.find('.', slash == std::string_view::npos ? 0 : slash);
  if (slash == std::string_view::npos || dot == std::string_view::npos)
    throw Error(where + ": notify '" + std::string(value) + "' is not <how>/<pid|tid>.<n>");
  std::string_view how = value.substr(0, slash), kind = value.substr(slash + 1, dot - slash - 1);
  auto n = number<pid_t>(value.substr(dot + 1));
  if (how == "signal")
    t.notify = SIGEV_SIGNAL;
  else if (how == "none")
    t.notify = SIGEV_NONE;
  else if (how == "thread")
    t.notify = SIGEV_THREAD;
  else
    throw Error(where + ": unknown notification '" + std::string(how) + "'");
  if (kind == "tid")
    t.notify |= SIGEV_THREAD_ID;
  else if (kind != "pid")
    throw Error(where + ": notify target '" + std::string(kind) + "' is neither pid nor tid");
  if (!n) throw Error(where + ": notify target number '" + std::string(value) + "' is invalid");
  t.target = *n;
}

}  // namespace

std::vector<ProcTimer> parse_proc_timers(const std::string& text) {
  std::vector<ProcTimer> out;
  // Fields seen for the record being parsed: ID, signal, notify, ClockID.
  unsigned seen = 0;
  auto finish = [&](int line) {
    if (!out.empty() && seen != 0xf) {
      throw Error("timers line " + std::to_string(line) + ": timer " +
                  std::to_string(out.back().id) + " lacks a signal, notify or ClockID line");
    }
  };
  int line_no = 0;
  for (const std::string& raw : split(text, '\n')) {
    ++line_no;
    std::string_view line = trim(raw);
    if (line.empty()) continue;
    std::string where = "timers line " + std::to_string(line_no);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) throw Error(where + ": no ':' in '" + raw + "'");
    std::string_view key = line.substr(0, colon), value = trim(line.substr(colon + 1));
    if (key == "ID") {
      finish(line_no);
      auto id = number<int>(value);
      if (!id || *id < 0) throw Error(where + ": timer id '" + std::string(value) + "' invalid");
      out.push_back(ProcTimer{});
      out.back().id = *id;
      seen = 1;
      continue;
    }
    if (out.empty()) throw Error(where + ": '" + std::string(key) + "' before the first ID");
    ProcTimer& t = out.back();
    if (key == "signal") {
      size_t slash = value.find('/');
      auto signo = number<int>(value.substr(0, slash));
      auto sival = slash == std::string_view::npos ? std::nullopt
                                                   : number<uint64_t>(value.substr(slash + 1), 16);
      if (!signo || !sival)
        throw Error(where + ": signal '" + std::string(value) + "' is not <signo>/<hex value>");
      t.signo = *signo;
      t.sigev_value = *sival;
      seen |= 2;
    } else if (key == "notify") {
      parse_notify(value, t, where);
      seen |= 4;
    } else if (key == "ClockID") {
      auto clock = number<int>(value);
      if (!clock) throw Error(where + ": ClockID '" + std::string(value) + "' invalid");
      t.clock_id = *clock;
      seen |= 8;
    } else {
      throw Error(where + ": unknown field '" + std::string(key) + "'");
    }
  }
  finish(line_no);
  return out;
}

uint64_t timespec_to_ns(const struct timespec& ts) {
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

uint64_t timeval_to_ns(const struct timeval& tv) {
  return static_cast<uint64_t>(tv.tv_sec) * 1'000'000'000ULL +
         static_cast<uint64_t>(tv.tv_usec) * 1000ULL;
}

model::PosixTimer to_model_timer(const ProcTimer& t, pid_t pid, const ThreadIds& threads) {
  std::string name = "POSIX timer " + std::to_string(t.id);
  auto refuse = [&](const std::string& why) {
    return Error(name + " " + why, 0, "delete the timer (timer_delete) before checkpointing");
  };
  auto container_tid = [&](pid_t host) -> pid_t {
    for (const auto& [h, c] : threads)
      if (h == host) return c;
    return 0;
  };
  model::PosixTimer m;
  m.id = t.id;
  m.signo = t.signo;
  m.sigev_value = t.sigev_value;
  m.notify = t.notify;
  if ((t.notify & SIGEV_THREAD_ID) != 0) {
    // The kernel only accepts a target in the creator's thread group; it may have exited since.
    m.notify_tid = t.target == 0 ? 0 : container_tid(t.target);
    if (m.notify_tid == 0)
      throw refuse("signals thread " + std::to_string(t.target) +
                   " (host view), which is no longer a thread of this process");
  } else if (threads.empty() || t.target != threads.front().first) {
    throw refuse("notifies pid " + std::to_string(t.target) +
                 " (host view), which is not this process");
  }

  m.clock_id = t.clock_id;
  if (t.clock_id >= 0) {
    if (!restorable_clock(t.clock_id))
      throw refuse("uses clock " + std::to_string(t.clock_id) + ", which cannot be recreated");
    return m;
  }
  // CPU-time clocks. The pid inside is in the creator's pid namespace (the container's), so
  // it means the same after the restore as long as it names this process or one of its threads.
  if ((t.clock_id & kCpuClockMask) == kClockFd)
    throw refuse("uses a dynamic posix clock (clock id " + std::to_string(t.clock_id) +
                 ", reached through an fd), which cannot be recreated");
  pid_t target = cpu_clock_pid(t.clock_id);
  bool per_thread = (t.clock_id & kCpuClockPerThread) != 0;
  if (per_thread) {
    if (target == 0 && threads.size() > 1)
      throw refuse(
          "measures CLOCK_THREAD_CPUTIME_ID of the thread that created it, which cannot be told "
          "in a multithreaded process");
    bool ours = target == 0 || std::any_of(threads.begin(), threads.end(),
                                           [&](const auto& ids) { return ids.second == target; });
    if (!ours)
      throw refuse("measures the CPU time of thread " + std::to_string(target) +
                   ", which is not a thread of this process");
  } else if (target != 0 && target != pid) {
    throw refuse("measures the CPU time of pid " + std::to_string(target) +
                 ", another process; timers on other processes' CPU clocks are not supported");
  }
  return m;
}

void collect_timers(task::Syscaller& sc, task::TaskMemory& mem, uint64_t scratch,
                    const ThreadIds& threads, model::Process& p) {
  p.itimers.clear();
  for (int which : {ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF}) {
    sc.check("getitimer", SYS_getitimer, static_cast<uint64_t>(which), scratch);
    struct itimerval tv {};
    mem.read(scratch, &tv, sizeof tv);
    // Disarmed only when both are zero. A periodic ITIMER_REAL that expired while the task was
    // stopped reads value 0 with its interval: the kernel re-arms it when the task dequeues the
    // SIGALRM (kernel/signal.c dequeue_signal; it_real_fn returns HRTIMER_NORESTART), which the
    // stopped task has not done yet. That timer is alive and must come back.
    bool value_zero = tv.it_value.tv_sec == 0 && tv.it_value.tv_usec == 0;
    bool interval_zero = tv.it_interval.tv_sec == 0 && tv.it_interval.tv_usec == 0;
    if (value_zero && interval_zero) continue;
    p.itimers.push_back(
        model::ITimer{which, timeval_to_ns(tv.it_value), timeval_to_ns(tv.it_interval)});
  }

  p.posix_timers.clear();
  std::string path = "/proc/" + std::to_string(threads.at(0).first) + "/timers";
  std::string text;
  try {
    text = read_file(path);
  } catch (const Error& e) {
    // Only kernels without CONFIG_CHECKPOINT_RESTORE lack the file; they cannot show timers.
    if (e.code() != ENOENT) throw;
  }
  std::vector<ProcTimer> listed = with_context(path, [&] { return parse_proc_timers(text); });
  for (const ProcTimer& t : listed) {
    model::PosixTimer m = to_model_timer(t, p.pid, threads);
    with_context("POSIX timer " + std::to_string(t.id), [&] {
      // The kernel's timer_t is an int: the id itself, not glibc's pointer-sized handle.
      sc.check("timer_gettime", SYS_timer_gettime, static_cast<uint64_t>(t.id), scratch);
      struct itimerspec its {};
      mem.read(scratch, &its, sizeof its);
      m.value_ns = timespec_to_ns(its.it_value);
      m.interval_ns = timespec_to_ns(its.it_interval);
      m.overrun = static_cast<int>(
          sc.check("timer_getoverrun", SYS_timer_getoverrun, static_cast<uint64_t>(t.id)));
    });
    p.posix_timers.push_back(m);
  }
  // /proc lists the newest first; the restore wants ascending ids (its fallback needs them).
  std::sort(p.posix_timers.begin(), p.posix_timers.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
}

}  // namespace ckpt::checkpoint
