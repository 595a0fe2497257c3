#include "runtime/checkpoint/namespace_check.h"

#include <map>

#include "common/error.h"

namespace ckpt::checkpoint {

namespace {

// The namespaces every task of the container must share with its init: a restore creates one
// of each for the whole container (launcher.cc) and puts every task in it. The pid namespace
// is checked with the tree (tree.cc).
struct SharedKind {
  const char* file;          // in /proc/PID/task/TID/ns
  const char* init_file;     // the init's namespace it must equal
  const char* what;          // for messages
  const char* unshare_flag;  // unshare(1) option that makes one
  bool for_children;         // the namespace the task's future children will get
};

constexpr SharedKind kShared[] = {
    {"mnt", "mnt", "mount", "-m", false},
    {"net", "net", "network", "-n", false},
    {"uts", "uts", "UTS", "-u", false},
    {"ipc", "ipc", "IPC", "-i", false},
    {"user", "user", "user", "-U", false},
    {"cgroup", "cgroup", "cgroup", "-C", false},
    {"time", "time", "time", "-T", false},
    // unshare(CLONE_NEWPID) and unshare(CLONE_NEWTIME) move only the caller's future children
    // (pid_namespaces(7), time_namespaces(7)): the task stays, but its next fork would not.
    {"pid_for_children", "pid", "pid", "-p", true},
    {"time_for_children", "time", "time", "-T", true},
};

std::string thread_name(const TreeNode& task, size_t thread) {
  std::string who = task_name(task.pid, task.comm);
  if (thread == 0) return who;
  return "thread " + std::to_string(task.tids.at(thread)) + " of " + who;
}

void check_task_namespaces(const NamespaceProbe& probe, const std::vector<TreeNode>& tasks,
                           const std::map<std::string, std::string>& init_ns,
                           std::vector<std::string>& problems) {
  for (const TreeNode& task : tasks) {
    if (task.zombie) continue;  // its namespaces went with its exit (exit_task_namespaces)
    for (size_t t = 0; t < task.host_tids.size(); ++t) {
      for (const SharedKind& kind : kShared) {
        std::string ns = probe.namespace_of(task.host_pid, task.host_tids[t], kind.file);
        const std::string& expected = init_ns.at(kind.init_file);
        if (ns == expected) continue;
        std::string where =
            kind.for_children
                ? " will start its children in a " + std::string(kind.what) +
                      " namespace of their own (" + kind.file + " " + ns + ")"
                : " is in a " + std::string(kind.what) + " namespace of its own (" + ns + ")";
        problems.push_back(thread_name(task, t) + where + ", not the container's (" + expected +
                           "), as after unshare " + kind.unshare_flag +
                           "; restore cannot recreate that yet: let that task exit before "
                           "checkpointing");
      }
    }
  }
}

}  // namespace

NamespaceFindings check_namespaces(const NamespaceProbe& probe, const std::vector<TreeNode>& tasks,
                                   const std::optional<MountTable>& initial_mounts) {
  NamespaceFindings out;
  if (tasks.empty()) return out;
  const TreeNode& init = tasks.front();
  std::map<std::string, std::string> init_ns;
  for (const SharedKind& kind : kShared) {
    if (!kind.for_children)
      init_ns[kind.file] = probe.namespace_of(init.host_pid, init.host_pid, kind.file);
  }
  init_ns["pid"] = probe.namespace_of(init.host_pid, init.host_pid, "pid");
  check_task_namespaces(probe, tasks, init_ns, out.problems);

  // A namespace the container shares with the runtime is the host's: its state is not the
  // container's and a restore does not recreate it.
  auto own = [&](const char* file) { return probe.own_namespace(file) != init_ns.at(file); };

  if (own("uts")) out.uts = probe.uts_names(init.host_pid);

  if (own("mnt")) {
    if (!initial_mounts) {
      out.problems.push_back(
          "the mount table the container started with was not recorded, so mounts changed at "
          "run time cannot be detected; restart the container with this crun-ckpt");
    } else {
      std::string path = "/proc/" + std::to_string(init.host_pid) + "/mountinfo";
      MountTable now =
          with_context(path, [&] { return parse_mountinfo(probe.mountinfo(init.host_pid)); });
      for (std::string& p : mount_table_changes(*initial_mounts, now))
        out.problems.push_back(std::move(p));
    }
  }

  if (own("ipc")) {
    for (std::string& p : ipc_refusals(probe.ipc_objects(init.host_pid)))
      out.problems.push_back(std::move(p));
  }
  return out;
}

}  // namespace ckpt::checkpoint
