// The seam between the cgroup logic and the kernel: every file read/write, directory change,
// change notification and signal the cgroup code makes goes through Kernel, so the logic
// (which file in which hierarchy gets which value, freeze waiting, kill loops, rollback) is
// unit-tested against a fake without root. real_kernel() is the one used in production.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace ckpt::cgroup {

// Wakes a waiter when a watched cgroup file may have changed.
class Watch {
 public:
  virtual ~Watch() = default;
  // Returns after a change notification or after `timeout`, whichever comes first. Callers
  // re-read the file either way: a notification is a hint, never the state itself.
  virtual void wait(std::chrono::milliseconds timeout) = 0;
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  // Whole-file read and single-write(2) of a cgroup knob; both throw ckpt::Error naming the path.
  virtual std::string read(const std::string& path) = 0;
  virtual void write(const std::string& path, std::string_view data) = 0;
  virtual bool exists(const std::string& path) = 0;
  // mkdir(2)/rmdir(2): 0 or the errno, so callers decide what EEXIST/ENOENT/EBUSY mean.
  virtual int make_dir(const std::string& path) = 0;
  virtual int remove_dir(const std::string& path) = 0;
  // Starts watching `path` for modification (cgroup.events is modified by the kernel on every
  // state change). Set up before reading the file so no change is lost in between.
  virtual std::unique_ptr<Watch> watch(const std::string& path) = 0;
  // kill(2): 0 or the errno.
  virtual int send_signal(pid_t pid, int sig) = 0;
  virtual void sleep(std::chrono::milliseconds duration) = 0;
  virtual std::chrono::steady_clock::time_point now() = 0;
};

std::shared_ptr<Kernel> real_kernel();

}  // namespace ckpt::cgroup
