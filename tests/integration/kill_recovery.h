// Helpers for tests that SIGKILL a crun-ckpt command part-way (checkpoint, run, restore, or the
// monitor they fork) and then check, without running any recovering command, what was left:
// the container's status, partial images, and host leftovers. Shared by the kill tests here and
// by heavier variants (many delays, memory and register checks) built on them.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "harness.h"

namespace ckpt::test {

// A crun-ckpt command running in the background as our child, stdio on /dev/null. The
// destructor kills and reaps it if it still runs.
class Background {
 public:
  Background(const Cli& cli, const std::vector<std::string>& args);
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  pid_t pid() const { return pid_; }
  // True while it has not exited (reaps it if it has).
  bool running();
  // SIGKILL now and reap; true if the kill found it still running.
  bool kill();
  // Waits (bounded) for its exit; the exit code as run_command reports it, -1 on timeout.
  int wait(std::chrono::seconds timeout = std::chrono::seconds(120));

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

struct KillResult {
  bool hit_running = false;  // the kill found the command still at work
  int exit_code = -1;        // its exit code when it had finished first
};

// Starts crun-ckpt `args`, waits `delay`, then SIGKILLs it together with the pids `also()`
// names at that moment (a monitor that took over, read from the state).
KillResult run_killed_after(const Cli& cli, const std::vector<std::string>& args,
                            std::chrono::microseconds delay,
                            const std::function<std::vector<pid_t>()>& also = {});

// `count` delays spread evenly over [0, span].
std::vector<std::chrono::microseconds> spread(std::chrono::microseconds span, int count);

// How long one successful run of crun-ckpt `args` takes (to place kill delays over it);
// fails the test if it does not succeed.
std::chrono::microseconds time_command(const Cli& cli, const std::vector<std::string>& args);

// The partial image directories (".BASE.partial-*") beside image path `image`.
std::vector<std::string> partials_of(const std::string& image);

// The "status" field of `crun-ckpt state ID`, or "" if there is no such container.
std::string status_of(const Cli& cli, const std::string& id);

// The process recorded in ID's state.json as its creator or monitor, if that very process
// (pid and start time) still runs; else none. Used to kill a monitor part-way.
std::vector<pid_t> recorded_creator(const Cli& cli, const std::string& id);

}  // namespace ckpt::test
