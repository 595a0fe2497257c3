#include "cgroup/kernel.h"

#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "common/error.h"
#include "common/file_util.h"

namespace ckpt::cgroup {
namespace {

// cgroup.events is a kernfs file: the kernel calls kernfs_notify() on it when "populated" or
// "frozen" changes, which reaches inotify as IN_MODIFY (and poll(2) as POLLPRI).
class InotifyWatch final : public Watch {
 public:
  explicit InotifyWatch(UniqueFd fd) : fd_(std::move(fd)) {}

  void wait(std::chrono::milliseconds timeout) override {
    pollfd pfd = {fd_.get(), POLLIN, 0};
    int n = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
    if (n <= 0) return;  // timeout or EINTR: the caller re-reads the file anyway
    char buf[4096];
    while (::read(fd_.get(), buf, sizeof buf) > 0) {
    }
  }

 private:
  UniqueFd fd_;
};

// Without inotify (or for files the kernel never notifies about) waiting is plain polling.
class SleepWatch final : public Watch {
 public:
  void wait(std::chrono::milliseconds timeout) override {
    std::this_thread::sleep_for(std::min(timeout, std::chrono::milliseconds(10)));
  }
};

class RealKernel final : public Kernel {
 public:
  std::string read(const std::string& path) override { return read_file(path); }
  void write(const std::string& path, std::string_view data) override {
    write_existing(path, data);
  }
  bool exists(const std::string& path) override {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
  }
  int make_dir(const std::string& path) override {
    return ::mkdir(path.c_str(), 0755) == 0 ? 0 : errno;
  }
  int remove_dir(const std::string& path) override {
    return ::rmdir(path.c_str()) == 0 ? 0 : errno;
  }
  std::unique_ptr<Watch> watch(const std::string& path) override {
    UniqueFd fd(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!fd || ::inotify_add_watch(fd.get(), path.c_str(), IN_MODIFY) < 0)
      return std::make_unique<SleepWatch>();
    return std::make_unique<InotifyWatch>(std::move(fd));
  }
  int send_signal(pid_t pid, int sig) override { return ::kill(pid, sig) == 0 ? 0 : errno; }
  void sleep(std::chrono::milliseconds duration) override { std::this_thread::sleep_for(duration); }
  std::chrono::steady_clock::time_point now() override { return std::chrono::steady_clock::now(); }
};

}  // namespace

std::shared_ptr<Kernel> real_kernel() {
  return std::make_shared<RealKernel>();
}

}  // namespace ckpt::cgroup
