// Stage `seize`: freeze, enumerate, seize, thaw (DESIGN.md pipeline steps 1-3).
#include <sys/ptrace.h>

#include <algorithm>
#include <set>

#include "cgroup/cgroup.h"
#include "common/error.h"
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

 private:
  cgroup::Cgroup* cg_;
};

// Waits for the stop requested by the PTRACE_INTERRUPT sent while the cgroup was frozen.
// A signal dequeued first shows as a signal-delivery-stop: keep it (it is recorded as pending
// and re-sent on detach) and let the task reach the interrupt stop.
void wait_interrupt_stop(task::SeizedTask& t) {
  for (;;) {
    task::Stop s = t.wait_stop();
    if (s.kind != task::Stop::signal_delivery) return;
    t.defer_current_signal();
    t.resume(PTRACE_CONT, 0);
  }
}

}  // namespace

const char* stage_name(Stage stage) {
  switch (stage) {
    case Stage::seize:
      return "seize";
    case Stage::classify:
      return "classify";
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
  // A traced task that dies is reported to its tracer first; until we collect that report its
  // real parent cannot reap it. Children go first: a dying pid-namespace init waits for every
  // task of its namespace to be reaped (zap_pid_ns_processes), and non-leader threads before
  // their leader for the same reason. wait_stop() throws once it sees the exit.
  for (auto p = processes_.rbegin(); p != processes_.rend(); ++p) {
    for (auto t = p->threads.rbegin(); t != p->threads.rend(); ++t) {
      try {
        for (int i = 0; i < 100 && t->tid() > 0; ++i) {
          t->wait_stop();
          t->resume(PTRACE_CONT, 0);
        }
      } catch (const Error&) {
        // Exit collected (or the task is gone and ECHILD): done with it.
      }
      t->release();
    }
  }
}

SeizedContainer seize_container(cgroup::Cgroup& cgroup, pid_t init_host_pid,
                                const DumpOptions& options) {
  if (options.progress) options.progress(Stage::seize, 0);
  return with_context("checkpoint: seize container " + cgroup.path(), [&] {
    std::vector<SeizedProcess> seized;
    cgroup.freeze();
    ThawGuard guard(cgroup);

    std::vector<TreeNode> tree = build_tree(read_processes(cgroup, init_host_pid), init_host_pid);
    std::set<pid_t> all_tids;
    for (auto& node : tree) {
      SeizedProcess sp{node, {}};
      for (pid_t tid : node.host_tids) {
        sp.threads.emplace_back(tid, task::SeizeOptions{});
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
    for (auto& p : seized)
      for (auto& t : p.threads) wait_interrupt_stop(t);
    return SeizedContainer(cgroup, init_host_pid, std::move(seized));
  });
}

}  // namespace ckpt::checkpoint
