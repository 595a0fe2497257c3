// Stage `seize`: freeze, enumerate, seize, thaw (DESIGN.md pipeline steps 1-3).
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>
#include <set>

#include "cgroup/cgroup.h"
#include "common/error.h"
#include "common/file_util.h"
#include "runtime/checkpoint/checkpoint.h"

namespace ckpt::checkpoint {

namespace {

// Thaws the cgroup when the seize fails half-way. Declared after the seized tasks so it runs
// before their destructors: a detach interrupts and waits for a stop, which a v1-frozen task
// would never reach.
class ThawGuard {
 public:
  explicit ThawGuard(cgroup::Cgroup& cg) : cg_(&cg) {}
  ThawGuard(const ThawGuard&) = delete;
  ThawGuard& operator=(const ThawGuard&) = delete;
  ~ThawGuard() {
    if (cg_ == nullptr) return;
    try {
      cg_->thaw();
    } catch (...) {
      // Nothing better to do on an error path; the original exception is reported.
    }
  }
  void thaw() {
    cg_->thaw();
    cg_ = nullptr;
  }
  // For error paths: thaws now if not done yet, without throwing.
  void thaw_quietly() noexcept {
    if (cg_ == nullptr) return;
    try {
      cg_->thaw();
    } catch (...) {
    }
    cg_ = nullptr;
  }

 private:
  cgroup::Cgroup* cg_;
};

using Clock = std::chrono::steady_clock;

void nap(long us) {
  struct timespec ts = {us / 1'000'000, (us % 1'000'000) * 1000};
  nanosleep(&ts, nullptr);
}

// A freeze that catches a vfork child before its execve (a shell starting every command that
// way) is retried: the window is microseconds long, so a thaw and another freeze almost always
// find it gone. Past this, the checkpoint refuses.
constexpr auto kSharedMmPatience = std::chrono::seconds(2);
// A task that does not reach its interrupt stop in this time is held in the kernel by something
// we do not know of; better a clear failure than a checkpoint that never ends.
constexpr auto kStopPatience = std::chrono::seconds(10);

// Waits for the stop requested by the PTRACE_INTERRUPT sent while the cgroup was frozen.
// A signal dequeued first shows as a signal-delivery-stop: it is queued again at once
// (defer_current_signal) and the task goes on to the interrupt stop. Bounded: a task that
// never stops is released (its trace ends with our exit; detaching needs a stop) and the
// checkpoint fails naming it.
void wait_interrupt_stop(task::SeizedTask& t, Clock::time_point deadline) {
  long nap_us = 50;
  for (;;) {
    std::optional<task::Stop> s = t.poll_stop();
    if (!s) {
      if (Clock::now() > deadline) {
        pid_t tid = t.release();
        std::string wchan;
        try {
          wchan = read_file("/proc/" + std::to_string(tid) + "/wchan");
        } catch (const Error&) {
        }
        throw Error("task " + std::to_string(tid) + " did not stop within " +
                        std::to_string(kStopPatience.count()) + " s (waiting in the kernel at " +
                        (wchan.empty() ? std::string("?") : wchan) + ")",
                    0, "retry the checkpoint; the container goes on untouched");
      }
      nap(nap_us);
      nap_us = std::min(nap_us * 2, 10'000L);
      continue;
    }
    if (s->kind != task::Stop::signal_delivery) return;
    t.defer_current_signal();
    t.resume(PTRACE_CONT, 0);
  }
}

// Collects the exits of killed tasks we trace, in whatever order they come, within a bound.
//
// A traced thread that exits stays a zombie only its tracer can reap (kernel/exit.c
// exit_notify, wait_consider_task), and two kernel waits depend on those reaps: a thread-group
// leader is not reportable before its other threads are released (delay_group_leader), and
// the last exiting thread of the namespace's init sits in zap_pid_ns_processes() until every
// other task of the namespace, these zombies included, is gone. Which init thread ends up
// there depends on the exit race; waiting on the threads one by one in a fixed order can thus
// block in wait4 on that very thread while the zombies it waits for are the ones we would reap
// next: a deadlock. So every tid is polled (WNOHANG, __WALL for non-leader threads) until all
// are collected. No other child of ours is touched (no waitpid(-1)).
void collect_killed(std::vector<pid_t> tids) {
  // SIGKILL is not stoppable, so exits come within milliseconds; the bound only guards against
  // an unforeseen kernel wait. Whatever is left is released when our trace ends (our exit).
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  long nap_us = 200;
  while (!tids.empty() && Clock::now() < deadline) {
    bool progress = false;
    for (auto it = tids.begin(); it != tids.end();) {
      int status = 0;
      pid_t r = waitpid(*it, &status, __WALL | WNOHANG);
      if (r < 0 && errno == EINTR) continue;
      if (r == *it && WIFSTOPPED(status)) {
        // A stop reported before the kill took effect: let the task go on to die.
        ptrace(PTRACE_CONT, *it, nullptr, nullptr);
        progress = true;
        ++it;
      } else if (r == *it || r < 0) {
        // Exited and reaped, or already gone (ECHILD): done with it.
        it = tids.erase(it);
        progress = true;
      } else {
        ++it;
      }
    }
    if (progress) {
      nap_us = 200;
      continue;
    }
    struct timespec ts = {0, nap_us * 1000};
    nanosleep(&ts, nullptr);
    nap_us = std::min(nap_us * 2, 20'000L);
  }
}

}  // namespace

const char* stage_name(Stage stage) {
  switch (stage) {
    case Stage::seize:
      return "seize";
    case Stage::classify:
      return "classify";
    case Stage::namespaces:
      return "namespaces";
    case Stage::filesystems:
      return "filesystems";
    case Stage::task_state:
      return "task_state";
    case Stage::memory:
      return "memory";
    case Stage::assemble:
      return "assemble";
  }
  return "?";
}

SeizedContainer::SeizedContainer(cgroup::Cgroup& cgroup, pid_t init_host_pid,
                                 std::vector<SeizedProcess> processes)
    : cgroup_(&cgroup), init_host_pid_(init_host_pid), processes_(std::move(processes)) {}

void SeizedContainer::detach() {
  for (auto& p : processes_)
    for (auto& t : p.threads) t.detach();
}

void SeizedContainer::kill() {
  cgroup_->kill_all(SIGKILL);
  // From here we wait for the tids ourselves; the SeizedTasks must not detach dead tasks.
  std::vector<pid_t> traced;
  for (auto& p : processes_)
    for (auto& t : p.threads)
      if (pid_t tid = t.release(); tid > 0) traced.push_back(tid);
  collect_killed(std::move(traced));
}

namespace {

// Seizes and interrupts every thread of `tree` while the cgroup is frozen, then thaws (through
// `guard`) and waits until each is in its interrupt stop.
SeizedContainer seize_frozen(cgroup::Cgroup& cgroup, pid_t init_host_pid,
                             std::vector<TreeNode> tree, ThawGuard& guard,
                             const DumpOptions& options) {
  // The seized tasks must outlive the thaw on every path: destroying one detaches it, which
  // waits for a stop that a v1-frozen task never reaches.
  std::vector<SeizedProcess> seized;
  try {
    std::set<pid_t> all_tids;
    for (auto& node : tree) {
      SeizedProcess sp{node, {}};
      if (node.zombie) {
        // A zombie cannot be seized (it will never stop again) and has nothing to stop: it is
        // dumped from /proc alone. Its tid may still be listed by the cgroup.
        all_tids.insert(node.host_pid);
        seized.push_back(std::move(sp));
        continue;
      }
      for (pid_t tid : node.host_tids) {
        sp.threads.emplace_back(tid, task::SeizeOptions{.suspend_seccomp = true});
        // Request the stop now, while frozen, so every task stops at the instant of the freeze
        // and never runs user code after the thaw. The wait happens after thawing: a v1-frozen
        // task cannot reach the stop before.
        if (ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0)
          throw sys_error("ptrace interrupt task " + std::to_string(tid));
        all_tids.insert(tid);
      }
      seized.push_back(std::move(sp));
    }
    if (options.fail_at_stage == Stage::seize)
      throw Error("injected failure at stage seize (test only)");

    // A task forked between the freeze request and the freeze would be missed: check.
    std::vector<pid_t> now = cgroup.threads();
    for (pid_t tid : now) {
      if (!all_tids.count(tid)) {
        throw Error("task " + std::to_string(tid) +
                    " appeared in the cgroup during the freeze; retry the checkpoint");
      }
    }
    guard.thaw();
    auto deadline = Clock::now() + kStopPatience;
    for (auto& p : seized)
      for (auto& t : p.threads) wait_interrupt_stop(t, deadline);
    return SeizedContainer(cgroup, init_host_pid, std::move(seized));
  } catch (...) {
    guard.thaw_quietly();
    throw;
  }
}

}  // namespace

SeizedContainer seize_container(cgroup::Cgroup& cgroup, pid_t init_host_pid,
                                const DumpOptions& options) {
  if (options.progress) options.progress(Stage::seize, 0);
  return with_context("checkpoint: seize container " + cgroup.path(), [&] {
    auto deadline = Clock::now() + kSharedMmPatience;
    for (long nap_us = 500;; nap_us = std::min(nap_us * 2, 50'000L)) {
      cgroup.freeze();
      ThawGuard guard(cgroup);
      std::vector<TreeNode> tree = build_tree(read_processes(cgroup, init_host_pid), init_host_pid);
      std::optional<SharedAddressSpace> shared = shared_address_space(tree, kernel_same_mm);
      if (!shared) return seize_frozen(cgroup, init_host_pid, std::move(tree), guard, options);
      // Its parent waits in the kernel for the child's execve (wait_for_vfork_done), where no
      // ptrace interrupt reaches it: stopping the child would stop both for good.
      guard.thaw();
      if (Clock::now() > deadline) {
        throw Error("cannot checkpoint: " + task_name(shared->child->pid, shared->child->comm) +
                        " shares the address space of its parent " +
                        task_name(shared->parent->pid, shared->parent->comm) +
                        " (a vfork child that has not called execve for " +
                        std::to_string(kSharedMmPatience.count()) +
                        " s, or a CLONE_VM process), which an image cannot hold",
                    0, "retry the checkpoint; processes sharing memory this way are not supported");
      }
      nap(nap_us);
    }
  });
}

}  // namespace ckpt::checkpoint
