// RAII pieces for the cgroup integration tests: a test cgroup that is killed and removed on
// every path, forked children that are killed and reaped on every path, and a gate so a child
// runs its body only after it has been put into the cgroup.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>

#include "cgroup/cgroup.h"
#include "harness.h"

namespace ckpt::test {

class TestCgroup {
 public:
  explicit TestCgroup(cgroup::FreezerKind freezer = cgroup::FreezerKind::automatic,
                      const std::string& prefix = "cgtest")
      : name_(unique_name(prefix)),
        layout_(cgroup::detect_layout()),
        cg_(cgroup::create(layout_, name_, {freezer, nullptr})) {}
  ~TestCgroup() {
    if (!cg_) return;
    try {
      cg_->kill_all(SIGKILL);
    } catch (...) {
    }
    try {
      cg_->destroy();
    } catch (...) {
      // Last resort so no test directory outlives the test.
      for (const std::string& dir : cg_->directories()) ::rmdir(dir.c_str());
    }
  }
  TestCgroup(const TestCgroup&) = delete;
  TestCgroup& operator=(const TestCgroup&) = delete;

  cgroup::Cgroup* operator->() const { return cg_.get(); }
  cgroup::Cgroup& get() const { return *cg_; }
  const std::string& name() const { return name_; }
  const cgroup::Layout& layout() const { return layout_; }

 private:
  std::string name_;
  cgroup::Layout layout_;
  std::unique_ptr<cgroup::Cgroup> cg_;
};

// A forked child that waits for release() before running `body`, then _exits with its result.
// The destructor kills and reaps it if the test has not.
class Child {
 public:
  explicit Child(std::function<int()> body) {
    int gate[2];
    if (::pipe2(gate, O_CLOEXEC) < 0) std::abort();
    pid_ = ::fork();
    if (pid_ < 0) std::abort();
    if (pid_ == 0) {
      ::close(gate[1]);
      char c;
      if (::read(gate[0], &c, 1) != 1) ::_exit(120);
      ::close(gate[0]);
      ::_exit(body());
    }
    ::close(gate[0]);
    gate_ = gate[1];
  }
  ~Child() {
    if (gate_ >= 0) ::close(gate_);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  void release() {
    char c = 'g';
    if (::write(gate_, &c, 1) != 1) std::abort();
    ::close(gate_);
    gate_ = -1;
  }
  // Reaps the child; returns the wait status.
  int wait() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int gate_ = -1;
};

}  // namespace ckpt::test
