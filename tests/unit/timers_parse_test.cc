// The pure parts of the timer dump and restore: the /proc/PID/timers parser, the checks that
// decide whether a timer can be restored, the time conversions and the filler-id plan.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <time.h>

#include "common/error.h"
#include "runtime/checkpoint/timers_dump.h"
#include "runtime/restore/timers_restore.h"

namespace ckpt {
namespace {

using checkpoint::parse_proc_timers;
using checkpoint::ProcTimer;
using checkpoint::to_model_timer;
using ::testing::HasSubstr;

// As Linux 6.18 prints it (newest timer first), from a process with host pid 23953.
constexpr const char* kSample =
    "ID: 4\n"
    "signal: 14/0000000000000000\n"
    "notify: signal/pid.23953\n"
    "ClockID: -14\n"
    "ID: 2\n"
    "signal: 12/00000000ffffffff\n"
    "notify: signal/tid.23954\n"
    "ClockID: 7\n"
    "ID: 1\n"
    "signal: 35/000000001234abcd\n"
    "notify: none/pid.23953\n"
    "ClockID: 0\n"
    "ID: 0\n"
    "signal: 35/ffff888012345678\n"
    "notify: thread/pid.23953\n"
    "ClockID: 1\n";

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(TimersParse, ReadsEveryField) {
  auto timers = parse_proc_timers(kSample);
  ASSERT_EQ(timers.size(), 4u);
  EXPECT_EQ(timers[0].id, 4);
  EXPECT_EQ(timers[0].signo, SIGALRM);
  EXPECT_EQ(timers[0].sigev_value, 0u);
  EXPECT_EQ(timers[0].notify, SIGEV_SIGNAL);
  EXPECT_EQ(timers[0].target, 23953);
  EXPECT_EQ(timers[0].clock_id, -14);

  EXPECT_EQ(timers[1].id, 2);
  EXPECT_EQ(timers[1].signo, SIGUSR2);
  EXPECT_EQ(timers[1].sigev_value, 0xffffffffu);
  EXPECT_EQ(timers[1].notify, SIGEV_SIGNAL | SIGEV_THREAD_ID);
  EXPECT_EQ(timers[1].target, 23954);
  EXPECT_EQ(timers[1].clock_id, CLOCK_BOOTTIME);

  EXPECT_EQ(timers[2].notify, SIGEV_NONE);
  EXPECT_EQ(timers[2].sigev_value, 0x1234abcdu);
  EXPECT_EQ(timers[2].clock_id, CLOCK_REALTIME);

  EXPECT_EQ(timers[3].id, 0);
  EXPECT_EQ(timers[3].notify, SIGEV_THREAD);
  EXPECT_EQ(timers[3].sigev_value, 0xffff888012345678ULL);
}

TEST(TimersParse, EmptyFileHasNoTimers) {
  EXPECT_TRUE(parse_proc_timers("").empty());
  EXPECT_TRUE(parse_proc_timers("\n").empty());
}

TEST(TimersParse, MalformedInputNamesTheLine) {
  EXPECT_THAT(error_of([] { parse_proc_timers("ID: x\n"); }), HasSubstr("line 1"));
  EXPECT_THAT(error_of([] { parse_proc_timers("signal: 14/0\n"); }),
              HasSubstr("before the first ID"));
  EXPECT_THAT(error_of([] { parse_proc_timers("ID: 1\nsignal: 14\n"); }),
              HasSubstr("line 2: signal '14'"));
  EXPECT_THAT(error_of([] { parse_proc_timers("ID: 1\nsignal: 14/0\nnotify: loud/pid.3\n"); }),
              HasSubstr("unknown notification 'loud'"));
  EXPECT_THAT(error_of([] { parse_proc_timers("ID: 1\nsignal: 14/0\nnotify: signal/pgid.3\n"); }),
              HasSubstr("neither pid nor tid"));
  EXPECT_THAT(error_of([] { parse_proc_timers("ID: 1\nsignal: 14/0\nnotify: signal/pid.x\n"); }),
              HasSubstr("invalid"));
  EXPECT_THAT(error_of([] { parse_proc_timers("ID: 1\nsignal: 14/0\nnotify: signal/pid.3\n"); }),
              HasSubstr("timer 1 lacks"));
  EXPECT_THAT(
      error_of([] { parse_proc_timers("ID: 1\nsignal: 14/0\nnotify: signal/pid.3\nColour: 1\n"); }),
      HasSubstr("unknown field 'Colour'"));
  EXPECT_THAT(error_of([] { parse_proc_timers("garbage\n"); }), HasSubstr("no ':'"));
}

// Host tid -> container tid of a two-thread process that is pid 1 in the container.
const checkpoint::ThreadIds kThreads = {{23953, 1}, {23954, 2}};

ProcTimer timer(int notify, pid_t target, int clock) {
  ProcTimer t;
  t.id = 7;
  t.signo = SIGRTMIN;
  t.sigev_value = 0x42;
  t.notify = notify;
  t.target = target;
  t.clock_id = clock;
  return t;
}

// The CPU-clock encoding of include/linux/posix-timers_types.h.
int cpu_clock(pid_t pid, bool per_thread, int kind = 2) {
  return static_cast<int>((~static_cast<unsigned>(pid) << 3) | (per_thread ? 4 : 0) | kind);
}

TEST(TimersModel, SignalTimerKeepsEverything) {
  auto m = to_model_timer(timer(SIGEV_SIGNAL, 23953, CLOCK_MONOTONIC), 1, kThreads);
  EXPECT_EQ(m.id, 7);
  EXPECT_EQ(m.signo, SIGRTMIN);
  EXPECT_EQ(m.sigev_value, 0x42u);
  EXPECT_EQ(m.notify, SIGEV_SIGNAL);
  EXPECT_EQ(m.notify_tid, 0);
  EXPECT_EQ(m.clock_id, CLOCK_MONOTONIC);
}

TEST(TimersModel, ThreadTargetBecomesTheContainerTid) {
  auto m =
      to_model_timer(timer(SIGEV_SIGNAL | SIGEV_THREAD_ID, 23954, CLOCK_BOOTTIME), 1, kThreads);
  EXPECT_EQ(m.notify, SIGEV_THREAD_ID);
  EXPECT_EQ(m.notify_tid, 2);
}

TEST(TimersModel, RefusesNamingTheTimerAndWhy) {
  EXPECT_THAT(error_of([] {
                to_model_timer(timer(SIGEV_SIGNAL | SIGEV_THREAD_ID, 0, CLOCK_MONOTONIC), 1,
                               kThreads);
              }),
              HasSubstr("POSIX timer 7 signals thread 0"));
  EXPECT_THAT(error_of([] {
                to_model_timer(timer(SIGEV_SIGNAL | SIGEV_THREAD_ID, 999, CLOCK_MONOTONIC), 1,
                               kThreads);
              }),
              HasSubstr("no longer a thread of this process"));
  EXPECT_THAT(
      error_of([] { to_model_timer(timer(SIGEV_SIGNAL, 5, CLOCK_MONOTONIC), 1, kThreads); }),
      HasSubstr("not this process"));
  EXPECT_THAT(error_of([] { to_model_timer(timer(SIGEV_SIGNAL, 23953, 4), 1, kThreads); }),
              HasSubstr("clock 4"));
  EXPECT_THAT(
      error_of([] { to_model_timer(timer(SIGEV_NONE, 23953, cpu_clock(9, false)), 1, kThreads); }),
      HasSubstr("CPU time of pid 9, another process"));
  EXPECT_THAT(
      error_of([] { to_model_timer(timer(SIGEV_NONE, 23953, cpu_clock(9, true)), 1, kThreads); }),
      HasSubstr("thread 9"));
  EXPECT_THAT(
      error_of([] { to_model_timer(timer(SIGEV_NONE, 23953, cpu_clock(0, true)), 1, kThreads); }),
      HasSubstr("multithreaded"));
  EXPECT_THAT(error_of([] {
                to_model_timer(timer(SIGEV_NONE, 23953, cpu_clock(0, false, 3)), 1, kThreads);
              }),
              HasSubstr("dynamic posix clock"));
}

TEST(TimersModel, OwnCpuClocksAreRestorable) {
  for (int clock : {cpu_clock(0, false), cpu_clock(1, false), cpu_clock(2, true),
                    cpu_clock(1, true, 0), cpu_clock(1, false, 1)}) {
    SCOPED_TRACE(clock);
    EXPECT_EQ(to_model_timer(timer(SIGEV_SIGNAL, 23953, clock), 1, kThreads).clock_id, clock);
  }
  // CLOCK_PROCESS_CPUTIME_ID and CLOCK_THREAD_CPUTIME_ID as the kernel stores them.
  EXPECT_EQ(cpu_clock(0, false), -6);
  EXPECT_EQ(cpu_clock(0, true), -2);
  const checkpoint::ThreadIds one = {{23953, 1}};
  EXPECT_EQ(to_model_timer(timer(SIGEV_SIGNAL, 23953, -2), 1, one).clock_id, -2);
}

TEST(TimersConvert, NanosecondsRoundTrip) {
  struct timespec ts = {3, 250'000'001};
  EXPECT_EQ(checkpoint::timespec_to_ns(ts), 3'250'000'001ULL);
  auto back = restore::ns_to_timespec(3'250'000'001ULL);
  EXPECT_EQ(back.tv_sec, 3);
  EXPECT_EQ(back.tv_nsec, 250'000'001);
  struct timeval tv = {2, 999'999};
  EXPECT_EQ(checkpoint::timeval_to_ns(tv), 2'999'999'000ULL);
  auto tv2 = restore::ns_to_timeval(2'999'999'000ULL);
  EXPECT_EQ(tv2.tv_sec, 2);
  EXPECT_EQ(tv2.tv_usec, 999'999);
}

TEST(TimersConvert, TimevalRoundsUpSoAnArmedTimerStaysArmed) {
  auto tv = restore::ns_to_timeval(1);
  EXPECT_EQ(tv.tv_sec, 0);
  EXPECT_EQ(tv.tv_usec, 1);
  tv = restore::ns_to_timeval(999'999'001);
  EXPECT_EQ(tv.tv_sec, 1);
  EXPECT_EQ(tv.tv_usec, 0);
  tv = restore::ns_to_timeval(0);
  EXPECT_EQ(tv.tv_sec, 0);
  EXPECT_EQ(tv.tv_usec, 0);
}

TEST(TimersFillers, FillsTheGapsBelowEachWantedId) {
  EXPECT_THAT(restore::filler_timer_ids({}, 10), ::testing::IsEmpty());
  EXPECT_THAT(restore::filler_timer_ids({0, 1, 2}, 10), ::testing::IsEmpty());
  EXPECT_THAT(restore::filler_timer_ids({1, 2}, 10), ::testing::ElementsAre(0));
  EXPECT_THAT(restore::filler_timer_ids({2, 5}, 10), ::testing::ElementsAre(0, 1, 3, 4));
}

TEST(TimersFillers, RefusesTooManyFillersAndBadIds) {
  EXPECT_THAT(restore::filler_timer_ids({3}, 3), ::testing::ElementsAre(0, 1, 2));
  EXPECT_THAT(error_of([] {
                restore::filler_timer_ids({1, 5}, 3);
              }),
              HasSubstr("POSIX timer 5 would need more than 3 filler timers"));
  EXPECT_THAT(error_of([] { restore::filler_timer_ids({2, 2}, 10); }), HasSubstr("distinct"));
  EXPECT_THAT(error_of([] { restore::filler_timer_ids({-1}, 10); }), HasSubstr("non-negative"));
}

}  // namespace
}  // namespace ckpt
