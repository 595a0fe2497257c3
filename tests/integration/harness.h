// Shared helpers for integration tests: run the crun-ckpt binary with a timeout and capture its
// output, unique names and directories per test (tests run in parallel), and RAII guards that
// delete containers and directories even when an assertion fails.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace ckpt::test {

struct CommandResult {
  int exit_code = -1;  // 128+N if killed by signal N; -1 if it timed out
  std::string out;
  std::string err;
};

// Runs `argv` (argv[0] a path) with stdin from /dev/null; kills it after `timeout`.
CommandResult run_command(const std::vector<std::string>& argv,
                          std::chrono::seconds timeout = std::chrono::seconds(60));

// A name unique to this test process and call: "<prefix>-<pid>-<n>" (short enough for
// hostnames and interface-name hashes).
std::string unique_name(const std::string& prefix);

// Skips the test unless running as root (integration tests need real namespaces).
bool is_root();

// A directory under /tmp removed (recursively) on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "ckpt-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // Writes `text` to path()/name and returns the full path.
  std::string write(const std::string& name, const std::string& text) const;

 private:
  std::string path_;
};

// Runs crun-ckpt with a private --root so parallel tests never see each other's containers.
// The destructor runs `delete -f` on every container id registered with track().
class Cli {
 public:
  Cli();
  ~Cli();
  Cli(const Cli&) = delete;
  Cli& operator=(const Cli&) = delete;

  CommandResult operator()(const std::vector<std::string>& args,
                           std::chrono::seconds timeout = std::chrono::seconds(60)) const;
  void track(const std::string& id) { ids_.push_back(id); }
  const std::string& root() const { return root_.path(); }
  TempDir& scratch() { return scratch_; }

 private:
  TempDir root_{"ckpt-root"};
  TempDir scratch_{"ckpt-scratch"};
  std::vector<std::string> ids_;
};

// Polls `pred` every 20 ms until it is true or `timeout` passes; returns the last result.
template <typename Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    struct timespec ts = {0, 20'000'000};
    nanosleep(&ts, nullptr);
  }
}

std::string workload(const std::string& name);  // path of a built test workload
std::string binary();                           // path of crun-ckpt
std::string slurp(const std::string& path);     // file contents, "" if missing

}  // namespace ckpt::test

#define CKPT_REQUIRE_ROOT()                                     \
  do {                                                          \
    if (!::ckpt::test::is_root()) GTEST_SKIP() << "needs root"; \
  } while (0)
