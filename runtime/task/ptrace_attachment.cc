#include "runtime/task/ptrace_attachment.h"

#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <utility>

#include "common/error.h"

namespace ckpt::task {

namespace {

std::string who(pid_t tid) {
  return "task " + std::to_string(tid);
}

// The thread group of `tid` (tgkill and rt_tgsigqueueinfo check it); tid itself if unknown.
pid_t tgid_of(pid_t tid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/status", tid);
  FILE* f = std::fopen(path, "re");
  if (f == nullptr) return tid;
  char line[256];
  pid_t tgid = tid;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::sscanf(line, "Tgid: %d", &tgid) == 1) break;
  }
  std::fclose(f);
  return tgid;
}

bool is_stop_signal(int sig) {
  return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

}  // namespace

Stop decode_stop(int status) {
  Stop s;
  int sig = WSTOPSIG(status);
  int event = (status >> 16) & 0xff;
  s.signal = sig & 0x7f;
  if (sig == (SIGTRAP | 0x80)) {
    s.kind = Stop::syscall;
    s.signal = SIGTRAP;
  } else if (event == PTRACE_EVENT_STOP) {
    // With PTRACE_SEIZE, group-stop and PTRACE_INTERRUPT both report EVENT_STOP; the signal
    // tells them apart (ptrace(2), "Group-stop"): a stop signal means a real group-stop.
    s.kind = is_stop_signal(sig) ? Stop::group_stop : Stop::interrupt;
  } else if (event != 0) {
    s.kind = Stop::ptrace_event;
    s.event = event;
  } else {
    s.kind = Stop::signal_delivery;
  }
  return s;
}

SeizedTask::SeizedTask(pid_t tid, const SeizeOptions& options) {
  long opts = PTRACE_O_TRACESYSGOOD;
  if (options.trace_clone) opts |= PTRACE_O_TRACECLONE;
  if (options.suspend_seccomp) opts |= PTRACE_O_SUSPEND_SECCOMP;
  if (options.exit_kill) opts |= PTRACE_O_EXITKILL;
  if (ptrace(PTRACE_SEIZE, tid, nullptr, reinterpret_cast<void*>(opts)) != 0) {
    Error e("ptrace seize " + who(tid), errno);
    if (errno == EPERM) e.with_hint("is it already traced, or are we lacking CAP_SYS_PTRACE?");
    throw e;
  }
  tid_ = tid;
}

SeizedTask::SeizedTask(SeizedTask&& other) noexcept
    : tid_(std::exchange(other.tid_, -1)),
      stopped_(other.stopped_),
      last_stop_(other.last_stop_),
      deferred_(std::move(other.deferred_)) {}

SeizedTask& SeizedTask::operator=(SeizedTask&& other) noexcept {
  if (this != &other) {
    detach_noexcept();
    tid_ = std::exchange(other.tid_, -1);
    stopped_ = other.stopped_;
    last_stop_ = other.last_stop_;
    deferred_ = std::move(other.deferred_);
  }
  return *this;
}

SeizedTask::~SeizedTask() {
  detach_noexcept();
}

Stop SeizedTask::wait_stop() {
  for (;;) {
    if (std::optional<Stop> s = wait_for_status(0)) return *s;
  }
}

std::optional<Stop> SeizedTask::poll_stop() {
  return wait_for_status(WNOHANG);
}

std::optional<Stop> SeizedTask::wait_for_status(int flags) {
  int status = 0;
  for (;;) {
    pid_t r = waitpid(tid_, &status, __WALL | flags);
    if (r == tid_) break;
    if (r == 0) return std::nullopt;  // WNOHANG: no state change yet
    if (r < 0 && errno == EINTR) continue;
    throw sys_error("waitpid " + who(tid_));
  }
  if (WIFEXITED(status) || WIFSIGNALED(status)) {
    pid_t dead = std::exchange(tid_, -1);
    stopped_ = false;
    if (WIFEXITED(status)) {
      throw Error(who(dead) + " exited with status " + std::to_string(WEXITSTATUS(status)) +
                  " while traced");
    }
    throw Error(who(dead) + " was killed by signal " + std::to_string(WTERMSIG(status)) +
                " while traced");
  }
  stopped_ = true;
  last_stop_ = decode_stop(status);
  return last_stop_;
}

void SeizedTask::resume(int request, int sig) {
  if (ptrace(static_cast<__ptrace_request>(request), tid_, nullptr,
             reinterpret_cast<void*>(static_cast<long>(sig))) != 0) {
    throw sys_error("ptrace resume " + who(tid_));
  }
  stopped_ = false;
}

void SeizedTask::defer_current_signal() {
  siginfo_t info{};
  if (ptrace(PTRACE_GETSIGINFO, tid_, nullptr, &info) != 0) {
    throw sys_error("ptrace getsiginfo " + who(tid_));
  }
  // The kernel refuses a foreign rt_tgsigqueueinfo with si_code >= 0 or SI_TKILL
  // (kernel/signal.c do_rt_tgsigqueueinfo): those (kernel and kill()-sent signals) are queued
  // again by number only.
  long r;
  if (info.si_code < 0 && info.si_code != SI_TKILL) {
    siginfo_t copy = info;
    r = syscall(SYS_rt_tgsigqueueinfo, tgid_of(tid_), tid_, info.si_signo, &copy);
  } else {
    r = syscall(SYS_tgkill, tgid_of(tid_), tid_, info.si_signo);
  }
  if (r != 0)
    throw sys_error("queue signal " + std::to_string(info.si_signo) + " to " + who(tid_) +
                    " again");
  deferred_.push_back(info);
}

Stop SeizedTask::interrupt() {
  if (stopped_) return last_stop_;
  if (ptrace(PTRACE_INTERRUPT, tid_, nullptr, nullptr) != 0) {
    throw sys_error("ptrace interrupt " + who(tid_));
  }
  for (;;) {
    Stop s = wait_stop();
    if (s.kind != Stop::signal_delivery) return s;
    // A signal was dequeued before our interrupt took effect: keep it for later and let the
    // task go on to the pending interrupt stop.
    defer_current_signal();
    resume(PTRACE_CONT, 0);
  }
}

void SeizedTask::detach() {
  if (tid_ < 0) return;
  if (!stopped_) interrupt();
  deferred_.clear();
  if (ptrace(PTRACE_DETACH, tid_, nullptr, nullptr) != 0 && errno != ESRCH) {
    throw sys_error("ptrace detach " + who(tid_));
  }
  tid_ = -1;
  stopped_ = false;
}

pid_t SeizedTask::release() {
  stopped_ = false;
  return std::exchange(tid_, -1);
}

void SeizedTask::detach_noexcept() noexcept {
  try {
    detach();
  } catch (...) {
    // Destructors cannot report; the trace ends with our exit at the latest.
    tid_ = -1;
  }
}

}  // namespace ckpt::task
