// Test helper for the ns/ integration tests: a child process cloned into new namespaces that
// runs a function and talks to the test through two pipes (child -> parent report, parent ->
// child "go"). The owner kills and reaps it on scope exit, so a failed assertion leaves no
// process behind.
#pragma once

#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>

namespace ckpt::test {

class NsChild {
 public:
  // `body` runs in the child; it gets the write end of the report pipe and the read end of the
  // go pipe. The child exits with body's return value (or 99 on an escaped exception).
  NsChild(uint64_t clone_flags, std::function<int(int report_fd, int go_fd)> body) {
    int report[2], go[2];
    if (pipe2(report, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0) std::abort();
    clone_args args{};
    args.flags = clone_flags;
    args.exit_signal = SIGCHLD;
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) {
      close(report[0]);
      close(go[1]);
      int rc = 99;
      try {
        rc = body(report[1], go[0]);
      } catch (...) {
      }
      _exit(rc);
    }
    close(report[1]);
    close(go[0]);
    report_ = report[0];
    go_ = go[1];
    pid_ = static_cast<pid_t>(pid);
  }
  NsChild(const NsChild&) = delete;
  NsChild& operator=(const NsChild&) = delete;
  ~NsChild() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      wait();
    }
    if (report_ >= 0) close(report_);
    if (go_ >= 0) close(go_);
  }

  pid_t pid() const { return pid_; }  // <= 0 if clone3 failed (errno says why)
  void go() {
    char c = 'g';
    if (write(go_, &c, 1) != 1) std::abort();
  }

  // Reads "key=value" lines until the child closes its end, or until `until_key` has been
  // read, or until the timeout.
  std::map<std::string, std::string> read_report(
      const std::string& until_key = {},
      std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      size_t nl;
      while ((nl = buffer_.find('\n')) != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        size_t eq = line.find('=');
        std::string key = line.substr(0, eq);
        report_lines_[key] = eq == std::string::npos ? "" : line.substr(eq + 1);
        if (!until_key.empty() && key == until_key) return report_lines_;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return report_lines_;
      pollfd p{report_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      ssize_t n = read(report_, buf, sizeof buf);
      if (n <= 0) return report_lines_;
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }

  // Waits for the child; returns its exit code, 128+N if killed by signal N.
  int wait() {
    if (pid_ <= 0) return -1;
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  int report_ = -1;
  int go_ = -1;
  std::string buffer_;
  std::map<std::string, std::string> report_lines_;
};

// In the child: writes "key=value\n" to the report pipe.
inline void report(int fd, const std::string& key, const std::string& value) {
  std::string line = key + "=" + value + "\n";
  if (write(fd, line.data(), line.size()) < 0) _exit(98);
}

// In the child: blocks until the parent calls go().
inline void wait_go(int fd) {
  char c;
  if (read(fd, &c, 1) != 1) _exit(97);
}

}  // namespace ckpt::test
