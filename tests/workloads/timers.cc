// Timer workload of the checkpoint/restore tests: it arms timers, is checkpointed while they are
// still armed, and after the restore reports from inside what fired, when and with what.
//
//   timers DIR            the timer test
//   timers DIR foreign    holds a timer on another process's CPU clock (must be refused)
//   timers DIR stalled    a periodic ITIMER_REAL (kStalledMs) whose SIGALRM is blocked: after
//                         its first expiry it waits, unarmed, for the signal to be taken;
//                         after DIR/go it unblocks SIGALRM and reports "alrm=N" once N reached
//                         kStalledWanted or kStalledWaitMs passed
//
// The timer test:
//  - SIGUSR1 blocked and sent to itself with sigqueue (value kUsr1Value): pending across the dump;
//  - POSIX timer P (SIGEV_THREAD_ID to itself, SIGRTMIN+2, value kPendingValue, 50 ms one-shot)
//    fired before the dump with its signal blocked: a pending SI_TIMER signal, and a disarmed
//    timer that must come back with the same id;
//  - POSIX timer T (CLOCK_MONOTONIC, SIGEV_SIGNAL SIGRTMIN+1, value kTimerValue), first expiry
//    kFirstMs, then every kPeriodMs; a timer created and deleted first makes the ids not start
//    at 0;
//  - ITIMER_REAL one-shot kFirstMs.
// It writes DIR/ready ("pid=.. timer=T pending_timer=P"), waits for DIR/go (written by the test
// after the restore), unblocks the pending signals, waits until the itimer fired once and T
// three times (at most kWaitMs), and writes DIR/report, one line of key=value:
//   usr1=N usr1_value=V usr1_code=C
//   pending=N pending_value=V pending_code=C pending_timerid=I
//   alrm=N alrm_delay_ms=D            (first delivery - arm time, container CLOCK_MONOTONIC)
//   rt=N rt_value=V rt_code=C rt_timerid=I rt_delay_ms=D rt_schedule_ok=0|1
//   timer=T pending_timer=P timer_exists=0|1 pending_exists=0|1
// rt_schedule_ok: the k-th delivery (k from 0) came no earlier than arm + first + k * period.
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "report_file.h"

namespace {

constexpr int64_t kFirstMs = 8000;  // long enough to checkpoint while everything is armed
constexpr int64_t kPeriodMs = 1000;
constexpr int64_t kWaitMs = 60000;
constexpr uint64_t kUsr1Value = 0x5eed1;
constexpr uint64_t kTimerValue = 0x7133e55a11ULL;
constexpr uint64_t kPendingValue = 0xabcd0042ULL;
constexpr int kMax = 16;

struct Fired {
  int64_t at_ns;
  uint64_t value;
  int timerid;
  int code;
};

// Signal handlers can only reach globals: one record array per signal.
Fired g_alrm[kMax], g_rt[kMax], g_usr1[kMax], g_pending[kMax];
volatile sig_atomic_t g_n_alrm = 0, g_n_rt = 0, g_n_usr1 = 0, g_n_pending = 0;

int64_t now_ns() {
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void record(Fired* list, volatile sig_atomic_t& n, const siginfo_t* si) {
  int i = n;
  if (i < kMax) {
    list[i] = {now_ns(), reinterpret_cast<uint64_t>(si->si_value.sival_ptr), si->si_timerid,
               si->si_code};
  }
  n = i + 1;
}

void on_alrm(int, siginfo_t* si, void*) {
  record(g_alrm, g_n_alrm, si);
}
void on_rt(int, siginfo_t* si, void*) {
  record(g_rt, g_n_rt, si);
}
void on_usr1(int, siginfo_t* si, void*) {
  record(g_usr1, g_n_usr1, si);
}
void on_pending(int, siginfo_t* si, void*) {
  record(g_pending, g_n_pending, si);
}

void handle(int sig, void (*fn)(int, siginfo_t*, void*)) {
  struct sigaction sa {};
  sa.sa_sigaction = fn;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  if (sigaction(sig, &sa, nullptr) != 0) _exit(10);
}

void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1'000'000};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

void write_file(const std::string& path, const std::string& text) {
  if (!workload::replace_file(path, text)) _exit(11);
}

// Raw syscalls: the kernel's timer id is what the test compares, not glibc's timer_t handle.
int make_timer(clockid_t clock, int notify, int signo, uint64_t value, int tid = 0) {
  struct sigevent ev {};
  ev.sigev_notify = notify;
  ev.sigev_signo = signo;
  ev.sigev_value.sival_ptr = reinterpret_cast<void*>(value);
  if (notify == SIGEV_THREAD_ID) ev._sigev_un._tid = tid;
  int id = -1;
  if (syscall(SYS_timer_create, clock, &ev, &id) != 0) _exit(14);
  return id;
}

void arm(int id, int64_t first_ms, int64_t period_ms) {
  struct itimerspec its {};
  its.it_value = {static_cast<time_t>(first_ms / 1000), (first_ms % 1000) * 1'000'000};
  its.it_interval = {static_cast<time_t>(period_ms / 1000), (period_ms % 1000) * 1'000'000};
  if (syscall(SYS_timer_settime, id, 0, &its, nullptr) != 0) _exit(15);
}

bool exists(int id) {
  struct itimerspec its {};
  return syscall(SYS_timer_gettime, id, &its) == 0;
}

void wait_for(const std::string& path) {
  while (access(path.c_str(), F_OK) != 0) sleep_ms(20);
}

[[noreturn]] void foreign(const std::string& dir) {
  // A timer on the CPU clock of another process (our child) cannot be restored.
  pid_t child = fork();
  if (child == 0) {
    for (;;) pause();
  }
  clockid_t clock;
  if (clock_getcpuclockid(child, &clock) != 0) _exit(16);
  int id = make_timer(clock, SIGEV_NONE, 0, 0);
  write_file(dir + "/ready",
             "pid=" + std::to_string(getpid()) + " timer=" + std::to_string(id) + "\n");
  for (;;) pause();
}

std::string field(const char* key, long long value) {
  return std::string(key) + "=" + std::to_string(value) + " ";
}

// The kernel re-arms a periodic ITIMER_REAL only when its SIGALRM is dequeued: with the signal
// blocked, the timer fires once and then waits, its value reading 0. A checkpoint taken then
// must still bring the timer back.
[[noreturn]] void stalled(const std::string& dir) {
  constexpr long kStalledMs = 20, kStalledWanted = 5, kStalledWaitMs = 10000;
  handle(SIGALRM, on_alrm);
  sigset_t alrm;
  sigemptyset(&alrm);
  sigaddset(&alrm, SIGALRM);
  if (sigprocmask(SIG_BLOCK, &alrm, nullptr) != 0) _exit(3);
  struct itimerval itv {};
  itv.it_value.tv_usec = kStalledMs * 1000;
  itv.it_interval.tv_usec = kStalledMs * 1000;
  if (setitimer(ITIMER_REAL, &itv, nullptr) != 0) _exit(7);
  for (int i = 0;; ++i) {  // until it fired and stalled on its pending signal
    sigset_t now;
    sigpending(&now);
    if (sigismember(&now, SIGALRM)) break;
    if (i > 500) _exit(6);
    sleep_ms(10);
  }
  struct itimerval now {};
  getitimer(ITIMER_REAL, &now);
  write_file(dir + "/ready",
             field("pid", getpid()) + field("stalled_value_us", now.it_value.tv_usec) + "\n");
  wait_for(dir + "/go");
  if (sigprocmask(SIG_UNBLOCK, &alrm, nullptr) != 0) _exit(8);
  int64_t deadline = now_ns() + kStalledWaitMs * 1'000'000;
  while (g_n_alrm < kStalledWanted && now_ns() < deadline) sleep_ms(5);
  write_file(dir + "/report", field("alrm", g_n_alrm) + "\n");
  for (;;) pause();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  std::string dir = argv[1];
  if (argc > 2 && std::strcmp(argv[2], "foreign") == 0) foreign(dir);
  if (argc > 2 && std::strcmp(argv[2], "stalled") == 0) stalled(dir);

  const int rt = SIGRTMIN + 1, pend = SIGRTMIN + 2;
  handle(SIGALRM, on_alrm);
  handle(rt, on_rt);
  handle(SIGUSR1, on_usr1);
  handle(pend, on_pending);
  sigset_t blocked;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGUSR1);
  sigaddset(&blocked, pend);
  if (sigprocmask(SIG_BLOCK, &blocked, nullptr) != 0) return 3;
  union sigval v {};
  v.sival_ptr = reinterpret_cast<void*>(kUsr1Value);
  if (sigqueue(getpid(), SIGUSR1, v) != 0) return 4;

  int gap = make_timer(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0);
  if (syscall(SYS_timer_delete, gap) != 0) return 5;

  int pending_timer = make_timer(CLOCK_BOOTTIME, SIGEV_THREAD_ID, pend, kPendingValue,
                                 static_cast<int>(syscall(SYS_gettid)));
  arm(pending_timer, 50, 0);
  for (int i = 0;; ++i) {  // its signal stays pending: it is blocked
    sigset_t now;
    sigpending(&now);
    if (sigismember(&now, pend)) break;
    if (i > 500) return 6;
    sleep_ms(10);
  }

  int timer = make_timer(CLOCK_MONOTONIC, SIGEV_SIGNAL, rt, kTimerValue);
  // Arm times are taken before arming: the expiry is at least first_ms after them.
  int64_t timer_armed = now_ns();
  arm(timer, kFirstMs, kPeriodMs);
  int64_t alrm_armed = now_ns();
  struct itimerval itv {};
  itv.it_value.tv_sec = kFirstMs / 1000;
  itv.it_value.tv_usec = (kFirstMs % 1000) * 1000;
  if (setitimer(ITIMER_REAL, &itv, nullptr) != 0) return 7;

  write_file(dir + "/ready", field("pid", getpid()) + field("timer", timer) +
                                 field("pending_timer", pending_timer) + "\n");
  wait_for(dir + "/go");
  if (sigprocmask(SIG_UNBLOCK, &blocked, nullptr) != 0) return 8;

  int64_t deadline = now_ns() + kWaitMs * 1'000'000;
  while ((g_n_alrm < 1 || g_n_rt < 3) && now_ns() < deadline) sleep_ms(20);
  // Stop further expiries from changing the records while they are read.
  struct itimerspec off {};
  syscall(SYS_timer_settime, timer, 0, &off, nullptr);

  bool schedule_ok = g_n_rt > 0;
  for (int k = 0; k < g_n_rt && k < kMax; ++k) {
    if (g_rt[k].at_ns < timer_armed + (kFirstMs + k * kPeriodMs) * 1'000'000) schedule_ok = false;
  }
  auto ms = [](int64_t ns) { return static_cast<long long>(ns / 1'000'000); };
  std::string r;
  r += field("usr1", g_n_usr1) + field("usr1_value", static_cast<long long>(g_usr1[0].value)) +
       field("usr1_code", g_usr1[0].code);
  r += field("pending", g_n_pending) +
       field("pending_value", static_cast<long long>(g_pending[0].value)) +
       field("pending_code", g_pending[0].code) + field("pending_timerid", g_pending[0].timerid);
  r += field("alrm", g_n_alrm) + field("alrm_delay_ms", ms(g_alrm[0].at_ns - alrm_armed));
  r += field("rt", g_n_rt) + field("rt_value", static_cast<long long>(g_rt[0].value)) +
       field("rt_code", g_rt[0].code) + field("rt_timerid", g_rt[0].timerid) +
       field("rt_delay_ms", ms(g_rt[0].at_ns - timer_armed)) +
       field("rt_schedule_ok", schedule_ok ? 1 : 0);
  r += field("timer", timer) + field("pending_timer", pending_timer) +
       field("timer_exists", exists(timer) ? 1 : 0) +
       field("pending_exists", exists(pending_timer) ? 1 : 0);
  r += "\n";
  write_file(dir + "/report", r);
  for (;;) pause();
}
