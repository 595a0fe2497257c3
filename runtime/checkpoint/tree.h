// The container's process tree: which tasks there are (host and container pids), who is whose
// parent, and the order a restore must recreate them in (parents before children). build_tree()
// is pure and unit-tested; enumerate_tree() reads /proc for the tasks the cgroup lists.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ckpt::cgroup {
class Cgroup;
}

namespace ckpt::checkpoint {

// One process as read from /proc (host view unless said otherwise).
struct RawProcess {
  pid_t host_pid = 0;
  pid_t host_ppid = 0;
  pid_t pid = 0;   // innermost NSpid
  pid_t pgid = 0;  // innermost NSpgid (0: the group leader is outside the namespace)
  pid_t sid = 0;   // innermost NSsid
  std::string comm;
  std::vector<pid_t> host_tids;      // leader first
  std::vector<pid_t> tids;           // innermost NStid, same order
  std::vector<pid_t> host_children;  // from /proc/PID/task/*/children
  // Exited, not yet reaped by its parent (state Z): it has no memory, fds or threads left to
  // dump, only its identity and the status its parent's wait() will return.
  bool zombie = false;
  int exit_status = 0;  // the wait status (/proc/PID/stat field 52)
};

struct TreeNode {
  pid_t host_pid = 0;
  pid_t pid = 0, ppid = 0, pgid = 0, sid = 0;  // container view; ppid 0 for init
  std::string comm;
  std::vector<pid_t> host_tids, tids;  // leader first
  bool zombie = false;  // never seized; dumped as pid, tree fields and exit_status only
  int exit_status = 0;
};

// Links parents, checks the tree is whole (one init, every parent and child inside), and
// returns it parents-before-children (children in pid order). Throws naming the odd task.
std::vector<TreeNode> build_tree(const std::vector<RawProcess>& processes, pid_t init_host_pid);

// Reads every process of the (frozen) cgroup, plus the zombies among their children (an
// exited task may no longer be listed by cgroup.procs, yet its parent's children file still
// names it); checks each is in init's pid namespace.
std::vector<RawProcess> read_processes(const cgroup::Cgroup& cgroup, pid_t init_host_pid);

// A process that shares its parent's address space: a vfork child that has not called execve
// yet (or a CLONE_VM child). While it exists the parent sits in the kernel waiting for it, out of
// reach of a ptrace interrupt, and the two share one mm the image could not hold.
struct SharedAddressSpace {
  const TreeNode* child = nullptr;
  const TreeNode* parent = nullptr;
};

// The first live process of `tree` that shares its address space with its parent, by
// `same_mm(host_pid_a, host_pid_b)`; nullopt if none. Pure given `same_mm` (kcmp in the kernel
// version, kernel_same_mm).
std::optional<SharedAddressSpace> shared_address_space(
    const std::vector<TreeNode>& tree, const std::function<bool(pid_t, pid_t)>& same_mm);

// kcmp(KCMP_VM): whether two processes share one mm. False when either is gone.
bool kernel_same_mm(pid_t a, pid_t b);

// "pid 7 (python3)": how messages name a task.
std::string task_name(pid_t pid, const std::string& comm);

}  // namespace ckpt::checkpoint
