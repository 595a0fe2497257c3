#include "runtime/container/checkpoint_guardian.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "common/error.h"
#include "image/partial.h"
#include "runtime/container/launcher.h"
#include "runtime/container/lifecycle.h"
#include "runtime/container/supervise.h"

namespace ckpt::runtime {

namespace {

// One byte per message on a SOCK_SEQPACKET pair: EOF is the peer's death (or its last close).
constexpr char kReady = 'R';     // guardian -> checkpoint: watching
constexpr char kStopping = 'S';  // checkpoint -> guardian: roll forward from here
constexpr char kDone = 'D';      // checkpoint -> guardian: nothing to do, exit

// How long recovery waits for the dead checkpoint to be fully gone (its ptrace attachments
// released by the kernel) before acting anyway; a task stuck in D state could hold it.
constexpr int kExitWaitMs = 30'000;

void send_byte(int fd, char byte) {
  while (::send(fd, &byte, 1, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) throw sys_error("checkpoint guardian: send");
  }
}

// Closes every fd but stdio and `keep`: the guardian must not hold the checkpoint's other files
// (its image streams, its partial directory's lock) after the checkpoint is gone.
void close_all_but(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  unsigned next = 3;
  for (int fd : keep) {
    if (fd < 3) continue;
    if (static_cast<unsigned>(fd) > next) ::close_range(next, fd - 1, 0);
    next = std::max(next, static_cast<unsigned>(fd) + 1);
  }
  ::close_range(next, ~0U, 0);
}

void log_line(const GuardedCheckpoint& g, const std::string& text) {
  std::fprintf(stderr, "crun-ckpt: checkpoint of '%s' died; %s\n", g.id.c_str(), text.c_str());
}

// Runs `step`, reporting (not propagating) its failure: each recovery step is tried even if an
// earlier one failed, and there is nobody to return an error to.
template <typename Fn>
bool attempt(const GuardedCheckpoint& g, const char* what, Fn&& step) {
  try {
    step();
    return true;
  } catch (const std::exception& e) {
    log_line(g, std::string("could not ") + what + ": " + e.what());
    return false;
  }
}

// The checkpoint's thread group has exited: only then has the kernel released its ptrace
// attachments (exit_ptrace() runs in exit_notify(), after the socket closed in exit_files()),
// so the tasks are back to their own control and its writers have stopped writing.
void wait_checkpoint_gone(int pidfd) {
  pollfd pfd = {pidfd, POLLIN, 0};
  while (::poll(&pfd, 1, kExitWaitMs) < 0 && errno == EINTR) {
  }
}

void undo(const GuardedCheckpoint& g, int pidfd) {
  // A paused container is refrozen at once: tasks still in ptrace-stop count as frozen for the
  // v2 freezer (kernel/signal.c ptrace_stop -> cgroup_enter_frozen), so when the kernel detaches
  // them they go straight into the freezer trap instead of running user code.
  if (g.was_frozen) attempt(g, "refreeze the container", [&] { g.cgroup->freeze(); });
  wait_checkpoint_gone(pidfd);
  bool freezer_ok = attempt(g, g.was_frozen ? "refreeze the container" : "thaw the container", [&] {
    if (g.was_frozen)
      g.cgroup->freeze();
    else
      g.cgroup->thaw();
  });
  bool image_ok =
      attempt(g, "remove the partial image", [&] { image::remove_stale_partials(g.image_path); });
  if (freezer_ok && image_ok)
    log_line(g, std::string("the container is ") + (g.was_frozen ? "paused" : "running") +
                    " as before and no partial image of " + g.image_path + " is left");
}

void finish(const GuardedCheckpoint& g, int pidfd) {
  // The tasks are killed at once, while still stopped under the dying tracer (SIGKILL reaches
  // a traced task): once the kernel detached them they would run on past the image's instant.
  attempt(g, "kill the container", [&] { g.cgroup->kill_all(SIGKILL); });
  wait_checkpoint_gone(pidfd);
  bool ok = attempt(g, "remove the stopped container", [&] {
    teardown(g.id, *g.spec, g.store->root());
    if (g.monitor_pid > 0) wait_for_process_exit(g.monitor_pid);
    g.store->remove(g.id);
  });
  if (ok)
    log_line(g, "its image " + g.image_path +
                    " is complete; the container was removed as the "
                    "checkpoint would have");
}

[[noreturn]] void guard(const GuardedCheckpoint& g, int channel, int pidfd) {
  // Its own session: signals a terminal sends to the checkpoint's process group miss it.
  ::setsid();
  for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU})
    ::signal(sig, SIG_IGN);
  ::prctl(PR_SET_NAME, "crun-ckpt-guard");
  close_all_but({channel, pidfd, g.checkpoint_lock});
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::close(null);
  }
  try {
    send_byte(channel, kReady);
  } catch (const Error&) {
    ::_exit(1);
  }
  bool stopping = false;
  for (;;) {
    char byte = 0;
    ssize_t n = ::recv(channel, &byte, 1, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n == 1 && byte == kDone) ::_exit(0);
    if (n == 1 && byte == kStopping) {
      stopping = true;
      continue;
    }
    break;  // EOF (or an error): the checkpoint is gone without saying done
  }
  if (stopping)
    finish(g, pidfd);
  else
    undo(g, pidfd);
  ::_exit(0);
}

}  // namespace

CheckpointGuardian::CheckpointGuardian(const GuardedCheckpoint& what) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
    throw sys_error("checkpoint guardian: socketpair");
  UniqueFd mine(fds[0]), theirs(fds[1]);
  int self = static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0));
  if (self < 0) throw sys_error("checkpoint guardian: pidfd_open");
  UniqueFd self_fd(self);
  pid_t pid = ::fork();
  if (pid < 0) throw sys_error("checkpoint guardian: fork");
  if (pid == 0) {
    mine.reset();
    guard(what, theirs.get(), self_fd.get());
  }
  pid_ = pid;
  theirs.reset();
  channel_ = std::move(mine);
  char byte = 0;
  ssize_t n;
  while ((n = ::recv(channel_.get(), &byte, 1, 0)) < 0 && errno == EINTR) {
  }
  if (n != 1 || byte != kReady) {
    channel_.reset();
    wait_for_exit(pid_);
    throw Error("the checkpoint guardian process did not start", 0,
                "a checkpoint that nobody could recover if killed is not begun; retry");
  }
}

CheckpointGuardian::~CheckpointGuardian() {
  try {
    send_byte(channel_.get(), kDone);
  } catch (const Error&) {
    // It died: it can no longer act, so there is nothing to tell it.
  }
  channel_.reset();
  try {
    wait_for_exit(pid_);
  } catch (const Error&) {
  }
}

void CheckpointGuardian::stopping() {
  send_byte(channel_.get(), kStopping);
}

}  // namespace ckpt::runtime
