// run_stub(): forks the stub tree inside the new pid namespace.
//
// Every stub is created by the stub of its real parent with clone3(set_tid = original pid),
// so parentage, and with it the inherited session and process group, is right. The global
// order computed by plan_restore() is enforced through a step counter in a MAP_SHARED page
// that all stubs inherit: the stub at index i is forked when the counter reaches i and bumps
// it to i+1 once its own setsid()/setpgid() is done. Waiting uses a shared futex. A zombie's
// stub exits with the dumped status once all stubs exist; its parent stub waits for that exit
// (without reaping) before the tree reports ready.
//
// This runs in a child of a possibly multi-threaded process: no allocation, no locks, only
// syscalls and the plan's already-built vectors.
#include <linux/futex.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/error.h"
#include "runtime/restore/restore.h"

namespace ckpt::restore {

namespace {

struct SharedState {
  std::atomic<uint32_t> step;
  std::atomic<uint32_t> failed;
  std::atomic<uint32_t> zombies_exited;  // zombie stubs whose exit a parent has observed
  char message[512];
};
static_assert(sizeof(SharedState) <= 4096);

void futex_wake_all(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE, INT32_MAX, nullptr, nullptr, 0);
}

void report(int control_fd, const char* text) {
  size_t len = std::strlen(text);
  while (len > 0) {
    ssize_t n = write(control_fd, text, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text += n;
    len -= n;
  }
}

[[noreturn]] void fail(SharedState* st, int index, int control_fd, const char* what, int err) {
  uint32_t expected = 0;
  if (st->failed.compare_exchange_strong(expected, 1)) {
    std::snprintf(st->message, sizeof(st->message), "stub %d: %s: %s", index, what,
                  std::strerror(err));
  }
  futex_wake_all(&st->failed);
  futex_wake_all(&st->step);
  if (index == 0) {
    char line[600];
    std::snprintf(line, sizeof(line), "error: %s\n", st->message);
    report(control_fd, line);
  }
  _exit(1);
}

// Waits until the counter `word` of `st` reaches `target`; false if another stub failed.
bool wait_count(SharedState* st, std::atomic<uint32_t>& word, uint32_t target) {
  for (;;) {
    if (st->failed.load() != 0) return false;
    uint32_t now = word.load();
    if (now >= target) return true;
    // The timeout re-checks `failed`, which is a different word than the one we sleep on.
    struct timespec ts = {0, 100'000'000};
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAIT, now, &ts, nullptr, 0);
  }
}

bool wait_step(SharedState* st, uint32_t target) {
  return wait_count(st, st->step, target);
}

// The end of a zombie's stub: leaves the wait status `status` for its parent. Runs once every
// stub exists, so the sessions and groups this stub leads were joined while it was alive.
[[noreturn]] void exit_as_zombie(int status) {
  int sig = status & 0x7f;
  if (sig == 0) _exit((status >> 8) & 0xff);
  // No core file for a restored death: not dumpable means do_coredump() gives up at once, so
  // the status lacks WCOREDUMP (0x80) even when the dumped one had it.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigaction(sig, &dfl, nullptr);
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, sig);
  sigprocmask(SIG_UNBLOCK, &only, nullptr);
  syscall(SYS_tgkill, getpid(), getpid(), sig);
  // The plan only admits signals whose default action kills; exit anyway rather than linger.
  _exit(128 + sig);
}

[[noreturn]] void stub_main(const RestorePlan& plan, int index, SharedState* st, int control_fd);

pid_t clone_with_pid(pid_t pid) {
  clone_args args{};
  args.exit_signal = SIGCHLD;
  pid_t tid = pid;
  args.set_tid = reinterpret_cast<uint64_t>(&tid);
  args.set_tid_size = 1;  // only the innermost namespace: the stubs live in the new one
  return static_cast<pid_t>(syscall(SYS_clone3, &args, sizeof(args)));
}

void stub_main_setup(const RestorePlan& plan, int index, SharedState* st, int control_fd) {
  const StubSpec& s = plan.processes[index];
  if (getpid() != s.pid) {
    char what[96];
    std::snprintf(what, sizeof(what), "runs as pid %d instead of %d", getpid(), s.pid);
    fail(st, index, control_fd, what, EINVAL);
  }
  if (s.setsid && setsid() < 0) fail(st, index, control_fd, "setsid", errno);
  if (s.new_group && setpgid(0, 0) < 0) fail(st, index, control_fd, "setpgid(0, 0)", errno);
  if (s.join_group != 0 && setpgid(0, s.join_group) < 0) {
    fail(st, index, control_fd, "setpgid into the group of its leader", errno);
  }
  st->step.store(static_cast<uint32_t>(index + 1));
  futex_wake_all(&st->step);
}

void stub_main(const RestorePlan& plan, int index, SharedState* st, int control_fd) {
  stub_main_setup(plan, index, st, control_fd);
  const int n = static_cast<int>(plan.processes.size());
  for (int j = index + 1; j < n; ++j) {
    if (plan.processes[j].parent != index) continue;
    if (!wait_step(st, static_cast<uint32_t>(j))) fail(st, index, control_fd, "aborted", ECANCELED);
    pid_t child = clone_with_pid(plan.processes[j].pid);
    if (child < 0) {
      char what[64];
      std::snprintf(what, sizeof(what), "clone3 with set_tid %d", plan.processes[j].pid);
      fail(st, index, control_fd, what, errno);
    }
    if (child == 0) stub_main(plan, j, st, control_fd);
  }
  if (!wait_step(st, static_cast<uint32_t>(n))) {
    fail(st, index, control_fd, "aborted", ECANCELED);
  }
  if (plan.processes[index].zombie) {
    // The name is all of a zombie that /proc and ps still show; PR_SET_NAME truncates it.
    prctl(PR_SET_NAME, plan.processes[index].comm.c_str(), 0, 0, 0);
    exit_as_zombie(plan.processes[index].exit_status);
  }
  // Observe each zombie child's exit without reaping it (WNOWAIT): the restored parent's own
  // wait() collects it. Only then is the tree as dumped, so the restorer finds no stub still
  // on its way out (and no SIGCHLD still to come).
  uint32_t zombies = 0;
  for (int j = index + 1; j < n; ++j) {
    if (plan.processes[j].zombie) ++zombies;
    if (plan.processes[j].parent != index || !plan.processes[j].zombie) continue;
    siginfo_t info{};
    while (waitid(P_PID, plan.processes[j].pid, &info, WEXITED | WNOWAIT) < 0) {
      if (errno != EINTR) fail(st, index, control_fd, "wait for a zombie child to exit", errno);
    }
    st->zombies_exited.fetch_add(1);
    futex_wake_all(&st->zombies_exited);
  }
  if (index == 0) {
    if (!wait_count(st, st->zombies_exited, zombies)) {
      fail(st, index, control_fd, "aborted", ECANCELED);
    }
    report(control_fd, "ok\n");
  }
  // Sleep until the restorer takes over; it replaces everything, including this frame.
  for (;;) pause();
}

}  // namespace

void run_stub(const RestorePlan& plan, int control_fd) {
  // Nothing may interrupt the stubs: the restorer seizes them where they sleep.
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED || plan.processes.empty()) {
    report(control_fd, "error: stub init: cannot start (no plan or no shared page)\n");
    _exit(1);
  }
  auto* st = new (page) SharedState{};
  stub_main(plan, 0, st, control_fd);
}

void wait_for_stubs(int control_fd, std::chrono::milliseconds timeout) {
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw Error("restore: the stub tree did not report within the timeout");
    pollfd pfd{control_fd, POLLIN, 0};
    int r = poll(&pfd, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw sys_error("poll the stub control pipe");
    if (r == 0) continue;
    char buf[256];
    ssize_t n = read(control_fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw sys_error("read the stub control pipe");
    if (n == 0) throw Error("restore: the stub tree exited before it was ready");
    line.append(buf, n);
    size_t nl = line.find('\n');
    if (nl == std::string::npos) continue;
    std::string first = line.substr(0, nl);
    if (first == "ok") return;
    if (first.rfind("error: ", 0) == 0) throw Error("restore: " + first.substr(7));
    throw Error("restore: unexpected report from the stub tree: \"" + first + "\"");
  }
}

}  // namespace ckpt::restore
