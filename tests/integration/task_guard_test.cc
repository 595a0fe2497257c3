// Guarded injection (runtime/task/guarded_syscall.h) against real tracer deaths: a tracer
// process seizes a victim, starts the guard, runs injected queries and SIGKILLs itself at one
// chosen step (the victim's registers are watched by workload::register_spin). Afterwards the victim must carry on as if nothing happened: its registers
// (general and AVX, checked by the victim's own loop), signal mask, alternate stack, handlers,
// and an interrupted read() that still returns the byte written after the tracer died.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "common/error.h"
#include "common/unique_fd.h"
#include "harness.h"
#include "../workloads/register_spin.h"
#include "runtime/task/gadgets.h"
#include "runtime/task/guarded_syscall.h"
#include "runtime/task/maps.h"
#include "runtime/task/memory.h"
#include "runtime/task/ptrace_attachment.h"

namespace ckpt::task {
namespace {

constexpr size_t kAltstackSize = 64 * 1024;

void on_usr1(int) {}

// A child with known signal state. mode "read": it sits in read() on the command pipe; mode
// "spin": it runs spin() and polls the pipe between rounds. For each command byte it answers
// with a line describing what it sees.
class Victim {
 public:
  explicit Victim(bool spinning) {
    signal(SIGPIPE, SIG_IGN);  // a dead victim must fail the test, not kill it
    int cmd[2], reply[2];
    if (pipe2(cmd, O_CLOEXEC) != 0 || pipe2(reply, O_CLOEXEC) != 0) throw sys_error("pipe");
    pid_ = fork();
    if (pid_ < 0) throw sys_error("fork");
    if (pid_ == 0) {
      close(cmd[1]);
      close(reply[0]);
      run(cmd[0], reply[1], spinning);
    }
    close(cmd[0]);
    close(reply[1]);
    cmd_.reset(cmd[1]);
    reply_.reset(reply[0]);
    fcntl(reply_.get(), F_SETFL, O_NONBLOCK);  // a hung victim must fail the test, not hang it
  }
  ~Victim() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, __WALL);
  }
  pid_t pid() const { return pid_; }

  // Sends one command and returns the answer line ("" if none within 5 s: the victim died or
  // hangs).
  std::string ask() {
    char c = 'q';
    if (write(cmd_.get(), &c, 1) != 1) return "";
    std::string line;
    for (int waited = 0; waited < 5000;) {
      char ch;
      ssize_t n = read(reply_.get(), &ch, 1);
      if (n == 1) {
        if (ch == '\n') return line;
        line += ch;
        continue;
      }
      if (n == 0) return "";
      usleep(1000);
      waited += 1;
    }
    return "";
  }

  static std::string expected_state() {
    return "mask=" + std::to_string(1ul << (SIGUSR2 - 1)) +
           " altstack=" + std::to_string(kAltstackSize) + ":0 usr1=handled regs=ok";
  }

 private:
  [[noreturn]] static void run(int cmd, int reply, bool spinning) {
    struct sigaction sa {};
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, nullptr);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR2);
    sigprocmask(SIG_SETMASK, &mask, nullptr);
    void* alt =
        mmap(nullptr, kAltstackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    stack_t ss{alt, 0, kAltstackSize};
    sigaltstack(&ss, nullptr);
    if (spinning) fcntl(cmd, F_SETFL, O_NONBLOCK);
    int bad = 0;
    for (;;) {
      if (spinning) bad |= workload::register_spin(2'000'000);
      char c;
      ssize_t n = read(cmd, &c, 1);
      if (n == 0) _exit(0);
      if (n < 0) {
        if (spinning && errno == EAGAIN) continue;
        _exit(3);  // an interrupted read that was not restarted shows up here
      }
      sigset_t now;
      sigprocmask(SIG_SETMASK, nullptr, &now);
      uint64_t bits = 0;
      for (int s = 1; s < 64; ++s)
        if (sigismember(&now, s)) bits |= 1ul << (s - 1);
      stack_t cur{};
      sigaltstack(nullptr, &cur);
      struct sigaction act {};
      sigaction(SIGUSR1, nullptr, &act);
      char line[256];
      int len = std::snprintf(line, sizeof line, "mask=%lu altstack=%zu:%d usr1=%s regs=%s\n",
                              static_cast<unsigned long>(bits), cur.ss_size, cur.ss_flags,
                              act.sa_handler == on_usr1 ? "handled" : "lost", bad ? "bad" : "ok");
      if (write(reply, line, len) != len) _exit(4);
    }
  }

  pid_t pid_ = -1;
  UniqueFd cmd_, reply_;
};

// Forks a tracer that seizes `victim`, runs a guard with three queries and kills itself at the
// `occurrence`-th time it reaches `kill_at` (never if occurrence is 0). Returns the tracer's
// exit: 0 when it finished the guard normally, 128+9 when it died as planned, else a failure.
int trace_and_die(pid_t victim, GuardStep kill_at, int occurrence, bool use_gadgets) {
  pid_t tracer = fork();
  if (tracer < 0) throw sys_error("fork");
  if (tracer == 0) {
    try {
      SeizedTask task(victim, SeizeOptions{});
      task.interrupt();
      Gadgets gadgets = use_gadgets ? GadgetFinder().find(victim) : Gadgets{};
      if (use_gadgets && !gadgets.complete()) _exit(10);
      int seen = 0;
      GuardOptions options;
      options.on_step = [&](GuardStep s) {
        if (s == kill_at && ++seen == occurrence) kill(getpid(), SIGKILL);
      };
      GuardedSyscaller guard(task, gadgets, read_maps(victim), options);
      if (guard.guarded() != use_gadgets) _exit(11);
      TaskMemory mem(victim);
      uint64_t at = guard.scratch();
      // The same queries a dump makes: a handler, the altstack, brk.
      guard.check("rt_sigaction", SYS_rt_sigaction, SIGUSR1, 0, at, 8);
      uint64_t handler = 0;
      mem.read(at, &handler, sizeof handler);
      if (handler != reinterpret_cast<uint64_t>(&on_usr1)) _exit(12);
      guard.check("sigaltstack", SYS_sigaltstack, 0, at);
      stack_t ss{};
      mem.read(at, &ss, sizeof ss);
      if (ss.ss_size != kAltstackSize) _exit(13);
      if (guard.check("brk", SYS_brk, 0) <= 0) _exit(14);
      guard.finish();
      task.detach();
      _exit(0);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "tracer: %s\n", e.what());
      _exit(20);
    }
  }
  int status = 0;
  while (waitpid(tracer, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

struct KillPoint {
  GuardStep step;
  int occurrence;
};

std::vector<KillPoint> every_kill_point() {
  std::vector<KillPoint> out = {
      {GuardStep::frame_written, 1}, {GuardStep::parked, 1}, {GuardStep::signals_blocked, 1}};
  for (int call = 1; call <= 3; ++call)
    for (GuardStep s :
         {GuardStep::call_prepared, GuardStep::call_entered, GuardStep::call_returned})
      out.push_back({s, call});
  for (GuardStep s :
       {GuardStep::signals_restored, GuardStep::registers_restored, GuardStep::stack_restored})
    out.push_back({s, 1});
  return out;
}

void expect_survives_every_tracer_death(bool spinning) {
  for (const KillPoint& k : every_kill_point()) {
    SCOPED_TRACE(std::string("tracer killed at ") + guard_step_name(k.step) + " #" +
                 std::to_string(k.occurrence));
    Victim victim(spinning);
    ASSERT_EQ(victim.ask(), Victim::expected_state()) << "victim not ready";
    if (spinning) usleep(20'000);  // let it get deep into spin()
    int tracer = trace_and_die(victim.pid(), k.step, k.occurrence, true);
    ASSERT_EQ(tracer, 128 + SIGKILL) << "the tracer did not reach its kill point";
    // Ask twice: the first answer may come from the read the tracer interrupted (restarted).
    EXPECT_EQ(victim.ask(), Victim::expected_state());
    if (spinning) usleep(20'000);
    EXPECT_EQ(victim.ask(), Victim::expected_state());
    int status = 0;
    EXPECT_EQ(waitpid(victim.pid(), &status, WNOHANG), 0) << "the victim died";
  }
}

TEST(TaskGuard, VictimInSyscallSurvivesTracerDeathAtEveryStep) {
  CKPT_REQUIRE_ROOT();
  expect_survives_every_tracer_death(false);
}

TEST(TaskGuard, VictimInUserCodeKeepsRegistersAndAvxAcrossTracerDeathAtEveryStep) {
  CKPT_REQUIRE_ROOT();
  if (!__builtin_cpu_supports("avx2")) GTEST_SKIP() << "no AVX2";
  expect_survives_every_tracer_death(true);
}

TEST(TaskGuard, FinishedGuardLeavesNothingAndQueriesAnswer) {
  CKPT_REQUIRE_ROOT();
  for (bool spinning : {false, true}) {
    if (spinning && !__builtin_cpu_supports("avx2")) continue;
    Victim victim(spinning);
    ASSERT_EQ(victim.ask(), Victim::expected_state());
    EXPECT_EQ(trace_and_die(victim.pid(), GuardStep::stack_restored, 0, true), 0);
    EXPECT_EQ(victim.ask(), Victim::expected_state());
  }
}

TEST(TaskGuard, FallbackWithoutGadgetsStillAnswersAndRestores) {
  CKPT_REQUIRE_ROOT();
  Victim victim(false);
  ASSERT_EQ(victim.ask(), Victim::expected_state());
  EXPECT_EQ(trace_and_die(victim.pid(), GuardStep::stack_restored, 0, false), 0);
  EXPECT_EQ(victim.ask(), Victim::expected_state());
}

}  // namespace
}  // namespace ckpt::task
