#include "runtime/container/supervise.h"

#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"

namespace ckpt::runtime {

namespace {
constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD};
}

ForwardedSignals::ForwardedSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kForwarded) sigaddset(&set, sig);
  if (::sigprocmask(SIG_BLOCK, &set, &old_mask_) < 0) throw sys_error("sigprocmask");
  fd_.reset(::signalfd(-1, &set, SFD_CLOEXEC));
  if (!fd_) throw sys_error("signalfd");
}

ForwardedSignals::~ForwardedSignals() { ::sigprocmask(SIG_SETMASK, &old_mask_, nullptr); }

int ForwardedSignals::wait_forwarding(pid_t pid) {
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) throw sys_error("waitpid " + std::to_string(pid));
    signalfd_siginfo info;
    ssize_t n = ::read(fd_.get(), &info, sizeof info);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof info)) throw sys_error("read signalfd");
    if (info.ssi_signo != SIGCHLD) ::kill(pid, static_cast<int>(info.ssi_signo));
  }
}

int wait_for_exit(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw sys_error("waitpid " + std::to_string(pid));
  }
  return status;
}

}  // namespace ckpt::runtime
