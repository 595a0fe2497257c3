// Zombie test workload: processes whose children exited but were not reaped yet. Checks from
// inside that such zombies survive a checkpoint/restore with their pids and wait statuses.
//
// The main process (the container's init) blocks SIGCHLD, gives it a handler, and forks three
// children that end with exit(7), exit(42) and a SIGTERM death, plus a "sub" process that forks
// one child ending with exit(5). Each parent waits until its children have exited (waitid WNOWAIT:
// they stay zombies), drains the SIGCHLD this queued (so none is pending at the dump), and writes
// DIR/ready-NAME: "pid=P children=A,B,C". Then it waits for the file DIR/go, and writes
// DIR/report-NAME: "pid=P sigchld_pending=0|1", one "child=PID status=S" line per child as
// waitpid() returns it, then "end". A restore that lost a zombie, changed its status, or left
// a SIGCHLD pending that was not pending at the dump shows in the report.
//
// usage: zombie_parent DIR
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "report_file.h"

namespace {

struct ChildSpec {
  int exit_code = 0;  // used when signo == 0
  int signo = 0;      // dies by this signal
};

void sleep_ms(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

void write_atomically(const std::string& dir, const std::string& name, const std::string& text) {
  if (!workload::replace_file(dir + "/" + name, text)) _exit(3);
}

pid_t spawn(const ChildSpec& spec) {
  pid_t pid = fork();
  if (pid < 0) _exit(4);
  if (pid > 0) return pid;
  if (spec.signo == 0) _exit(spec.exit_code);
  signal(spec.signo, SIG_DFL);
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, spec.signo);
  sigprocmask(SIG_UNBLOCK, &only, nullptr);
  kill(getpid(), spec.signo);
  _exit(99);  // not reached
}

// Forks the children, leaves them unreaped until DIR/go exists, then reaps and reports them.
[[noreturn]] void make_zombies(const std::string& dir, const std::string& name,
                               const std::vector<ChildSpec>& specs) {
  std::vector<pid_t> pids;
  for (const ChildSpec& s : specs) pids.push_back(spawn(s));
  for (pid_t pid : pids) {
    siginfo_t info{};
    while (waitid(P_PID, pid, &info, WEXITED | WNOWAIT) != 0) {
    }
  }
  // Take the SIGCHLD off the queue: the dump must see none pending.
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  timespec zero{0, 0};
  while (sigtimedwait(&chld, nullptr, &zero) > 0) {
  }
  std::string ready = "pid=" + std::to_string(getpid()) + " children=";
  for (size_t i = 0; i < pids.size(); ++i) ready += (i ? "," : "") + std::to_string(pids[i]);
  write_atomically(dir, "ready-" + name, ready + "\n");

  while (access((dir + "/go").c_str(), F_OK) != 0) sleep_ms(20);
  sigset_t pending;
  sigpending(&pending);
  std::string report = "pid=" + std::to_string(getpid()) +
                       " sigchld_pending=" + std::to_string(sigismember(&pending, SIGCHLD)) + "\n";
  for (pid_t pid : pids) {
    int status = 0;
    pid_t got = waitpid(pid, &status, 0);
    report += "child=" + std::to_string(got) + " status=" + std::to_string(status) + "\n";
  }
  write_atomically(dir, "report-" + name, report + "end\n");
  for (;;) pause();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: zombie_parent DIR\n");
    return 2;
  }
  std::string dir = argv[1];
  // Blocked before any fork, so every SIGCHLD stays queued until drained (and children and
  // the sub process inherit the mask).
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, nullptr);
  // A handler (never run: SIGCHLD stays blocked) keeps a stray SIGCHLD pending: with SIG_DFL
  // the restore's own sigaction() would discard it (POSIX: setting SIG_DFL for a pending
  // signal whose default is to ignore discards it) and hide one the restore left behind.
  struct sigaction sa {};
  sa.sa_handler = [](int) {};
  sigaction(SIGCHLD, &sa, nullptr);
  pid_t sub = fork();
  if (sub < 0) return 4;
  if (sub == 0) make_zombies(dir, "sub", {{5, 0}});
  make_zombies(dir, "init", {{7, 0}, {42, 0}, {0, SIGTERM}});
}
