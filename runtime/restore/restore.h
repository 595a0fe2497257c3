// The restore engine's API: rebuild a checkpointed process tree with its original pids and
// let it continue where it stopped.
//
//   plan_restore()   pure: checks the tree and orders the creation of processes so parents,
//                    session leaders and process-group leaders exist before those that need
//                    them;
//   run_stub()       runs as pid 1 of the fresh pid namespace and forks the stub tree with
//                    clone3(set_tid), one stub per dumped process, then waits to be taken over;
//   restore_tree()   from outside: makes every open file description once (file_table.h),
//                    seizes every stub and turns it into the dumped process (address space,
//                    mm fields, fds, signals, registers), leaving each stopped;
//   RestoredTree::resume()  detaches everything so the tree runs again.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "runtime/model/task_model.h"
#include "runtime/restore/image_source.h"
#include "runtime/task/ptrace_attachment.h"

namespace ckpt::image {
class ImageReader;
}

namespace ckpt::restore {

// One stub to create. Indices refer to RestorePlan::processes.
struct StubSpec {
  pid_t pid = 0;
  int parent = -1;         // index of the stub that forks this one; -1 for the root
  bool setsid = false;     // becomes a session leader (sid == pid)
  bool new_group = false;  // leads its own process group (pgid == pid, not via setsid)
  pid_t join_group = 0;    // setpgid(0, join_group) into a group led by an earlier stub
  // A zombie: once every stub exists it exits with `exit_status` (a wait status) and is left
  // unreaped for its parent; the restore never seizes it.
  bool zombie = false;
  int exit_status = 0;
  std::string comm;  // zombies: the name it shows in /proc and ps
};

// Creation order: processes[0] is the root (the namespace's init); processes[i] for i >= 1 is
// created after every processes[j], j < i, has finished its session/group setup.
struct RestorePlan {
  std::vector<StubSpec> processes;
  int index_of(pid_t pid) const;
};

// Checks the tree (one root, known parents, unique pids, supported features) and orders it.
// Throws ckpt::Error naming the pid and what cannot be restored.
RestorePlan plan_restore(const model::Checkpoint& checkpoint);

// Runs in the pid namespace's first process, after the caller set up mounts and stdio. Forks
// the stubs; writes "ok\n" to control_fd when all exist with their sessions and groups and
// every zombie stub has exited (observed, not reaped, by its parent), or
// "error: MESSAGE\n" and exits 1. Every stub then sleeps with all signals blocked until
// restore_tree() takes it over. Allocates no memory after fork (the parent may be threaded).
[[noreturn]] void run_stub(const RestorePlan& plan, int control_fd);

// Waits for run_stub's report on the other end of its control pipe; throws on "error: ..." or
// when the stub tree dies or `timeout` passes.
void wait_for_stubs(int control_fd, std::chrono::milliseconds timeout = std::chrono::seconds(30));

struct RestoreOptions {
  // Read end of run_stub's control pipe; if >= 0, restore_tree() waits for "ok" on it first.
  int stub_control_fd = -1;
  // Seize the stubs with PTRACE_O_SUSPEND_SECCOMP: the dumped filters are installed before the
  // last injected syscalls (credentials, registers), which they must not block. Restoring an
  // image with filters refuses without it.
  bool suspend_seccomp = true;
  // shared_id -> fd number of each shared anonymous object, created by SharedMemoryObjects
  // (shared_memory.h) in the process that launched the stubs, before it launched them, so
  // every stub has the fd under this number. Required when the image has shared memory.
  std::map<uint64_t, int> shared_memory_fds;
};

// The restored tree: every task stopped under our ptrace with its dumped state in place.
// Destroying it before resume() or release() kills the whole pid namespace and reaps it.
class RestoredTree {
 public:
  struct Task {
    pid_t pid = 0;                          // in the container
    pid_t host_pid = 0;                     // as seen by us
    task::SeizedTask attachment;            // the thread-group leader
    std::vector<task::SeizedTask> threads;  // the other threads, in dump order
  };

  RestoredTree(pid_t init_host_pid, std::vector<Task> tasks);
  RestoredTree(RestoredTree&&) noexcept;
  RestoredTree& operator=(RestoredTree&&) = delete;
  RestoredTree(const RestoredTree&) = delete;
  ~RestoredTree();

  pid_t init_host_pid() const { return init_; }
  const std::vector<Task>& tasks() const { return tasks_; }
  std::vector<Task>& tasks() { return tasks_; }
  pid_t host_pid(pid_t container_pid) const;

  // Detaches every task: the tree runs (in the caller's frozen cgroup, if any).
  void resume();
  // Leaves the tasks traced and alive; the caller owns them from now on.
  void release();

 private:
  void kill_all() noexcept;

  pid_t init_ = -1;
  std::vector<Task> tasks_;
  bool done_ = false;
};

RestoredTree restore_tree(pid_t stub_init_host_pid, const model::Checkpoint& checkpoint,
                          const ImageSource& image, const RestoreOptions& options);
RestoredTree restore_tree(pid_t stub_init_host_pid, const model::Checkpoint& checkpoint,
                          const image::ImageReader& image, const RestoreOptions& options);

}  // namespace ckpt::restore
