// An in-memory stand-in for cgroupfs, so the cgroup logic runs without root: files are strings,
// directories a set, time advances only when the code sleeps or waits, and hooks let a test
// play the kernel (change cgroup.events after a write, drop a task after a signal).
#pragma once

#include <cerrno>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cgroup/kernel.h"
#include "common/error.h"

namespace ckpt::cgroup::testing {

class FakeKernel : public Kernel {
 public:
  std::map<std::string, std::string> files;
  std::set<std::string> dirs;
  std::vector<std::pair<std::string, std::string>> writes;  // in order
  std::vector<std::pair<pid_t, int>> signals;
  std::map<std::string, int> busy;  // rmdir gives EBUSY this many more times
  int reads = 0;
  std::chrono::steady_clock::time_point clock{};

  // Called after a successful write / signal / mkdir / before each read.
  std::function<void(const std::string&, const std::string&)> on_write;
  std::function<void(pid_t, int)> on_signal;
  std::function<void(const std::string&)> on_mkdir;
  std::function<void(const std::string&)> on_read;

  std::string read(const std::string& path) override {
    ++reads;
    if (on_read) on_read(path);
    auto it = files.find(path);
    if (it == files.end()) throw Error("open " + path, ENOENT);
    return it->second;
  }
  void write(const std::string& path, std::string_view data) override {
    if (!files.count(path)) throw Error("open " + path, ENOENT);
    writes.emplace_back(path, std::string(data));
    files[path] = std::string(data);
    if (on_write) on_write(path, std::string(data));
  }
  bool exists(const std::string& path) override {
    return files.count(path) != 0 || dirs.count(path) != 0;
  }
  int make_dir(const std::string& path) override {
    if (exists(path)) return EEXIST;
    if (!dirs.count(path.substr(0, path.rfind('/')))) return ENOENT;
    dirs.insert(path);
    if (on_mkdir) on_mkdir(path);
    return 0;
  }
  int remove_dir(const std::string& path) override {
    if (!dirs.count(path)) return ENOENT;
    // Like rmdir(2) on a cgroup: a directory with child cgroups cannot go.
    for (const std::string& d : dirs)
      if (d.size() > path.size() && d.rfind(path + "/", 0) == 0) return EBUSY;
    if (auto it = busy.find(path); it != busy.end() && it->second > 0) {
      --it->second;
      return EBUSY;
    }
    dirs.erase(path);
    std::string prefix = path + "/";
    for (auto it = files.begin(); it != files.end();)
      it = it->first.rfind(prefix, 0) == 0 ? files.erase(it) : std::next(it);
    return 0;
  }
  std::unique_ptr<Watch> watch(const std::string&) override {
    return std::make_unique<FakeWatch>(*this);
  }
  int send_signal(pid_t pid, int sig) override {
    signals.emplace_back(pid, sig);
    if (on_signal) on_signal(pid, sig);
    return 0;
  }
  void sleep(std::chrono::milliseconds d) override { clock += d; }
  std::chrono::steady_clock::time_point now() override { return clock; }

  // The writes made to files whose path ends with `suffix`.
  std::vector<std::string> written(const std::string& suffix) const {
    std::vector<std::string> out;
    for (const auto& [path, data] : writes)
      if (path.size() >= suffix.size() &&
          path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0)
        out.push_back(data);
    return out;
  }

 private:
  class FakeWatch : public Watch {
   public:
    explicit FakeWatch(FakeKernel& k) : k_(k) {}
    void wait(std::chrono::milliseconds timeout) override { k_.clock += timeout; }

   private:
    FakeKernel& k_;
  };
};

}  // namespace ckpt::cgroup::testing
