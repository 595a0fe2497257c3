#include "runtime/checkpoint/tree.h"

#include <linux/kcmp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "cgroup/cgroup.h"
#include "common/error.h"
#include "common/file_util.h"
#include "common/parse_number.h"
#include "runtime/checkpoint/proc_state.h"
#include "runtime/task/proc.h"

namespace ckpt::checkpoint {

namespace {

// The fields of /proc/PID/status that task::ProcStatus does not carry (NSpgid, NSsid).
struct NsGroup {
  pid_t pgid = 0, sid = 0;
};

// The innermost (container) view: the last of the blank-separated pids.
pid_t last_number(const std::string& value, const char* what) {
  std::vector<pid_t> pids = parse_numbers<pid_t>(value, what);
  return pids.empty() ? 0 : pids.back();
}

NsGroup read_ns_group(const std::string& status_text) {
  NsGroup g;
  std::istringstream lines(status_text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with("NSpgid:"))
      g.pgid = last_number(line.substr(7), "status: NSpgid");
    else if (line.starts_with("NSsid:"))
      g.sid = last_number(line.substr(6), "status: NSsid");
  }
  return g;
}

ino_t pid_ns_inode(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/ns/pid";
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) throw sys_error("stat " + path);
  return st.st_ino;
}

std::vector<pid_t> read_children(pid_t pid, pid_t tid) {
  std::string path = "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/children";
  std::string text = read_file(path);
  return with_context(path, [&] { return parse_numbers<pid_t>(text, "child pid"); });
}

// One process from /proc (host pid `host_pid`), checked to be in the pid namespace `init_ns`.
RawProcess read_process(pid_t host_pid, ino_t init_ns) {
  return with_context("host pid " + std::to_string(host_pid), [&] {
    std::string status_text = read_file("/proc/" + std::to_string(host_pid) + "/status");
    task::ProcStatus st = task::parse_proc_status(status_text);
    RawProcess p;
    p.host_pid = host_pid;
    p.host_ppid = st.ppid;
    p.pid = st.innermost_pid();
    p.comm = st.name;
    NsGroup g = read_ns_group(status_text);
    p.pgid = g.pgid;
    p.sid = g.sid;
    // A zombie keeps its pids (and its pid namespace) until reaped: the checks below hold.
    if (pid_ns_inode(host_pid) != init_ns) {
      throw Error(task_name(p.pid, p.comm) +
                  " is in another pid namespace than the container's init (nested pid "
                  "namespaces are not supported yet)");
    }
    if (st.state == 'Z') {
      p.zombie = true;
      // Field 52 is the status wait() will report: exit code << 8, or the signal (| 0x80 for a
      // core dump), the same encoding as the status word of waitpid(2).
      p.exit_status =
          parse_stat(read_file("/proc/" + std::to_string(host_pid) + "/stat")).exit_code;
    }
    for (pid_t tid : task::list_threads(host_pid)) {
      task::ProcStatus ts = task::read_proc_status(tid, host_pid);
      p.host_tids.push_back(tid);
      p.tids.push_back(ts.innermost_pid());
      for (pid_t c : read_children(host_pid, tid)) p.host_children.push_back(c);
    }
    // Leader first: restore creates the thread group from it.
    auto it = std::find(p.host_tids.begin(), p.host_tids.end(), host_pid);
    if (it == p.host_tids.end()) throw Error("thread-group leader has exited");
    size_t idx = static_cast<size_t>(it - p.host_tids.begin());
    std::swap(p.host_tids[0], p.host_tids[idx]);
    std::swap(p.tids[0], p.tids[idx]);
    return p;
  });
}

}  // namespace

std::string task_name(pid_t pid, const std::string& comm) {
  return "pid " + std::to_string(pid) + " (" + comm + ")";
}

std::vector<TreeNode> build_tree(const std::vector<RawProcess>& processes, pid_t init_host_pid) {
  std::map<pid_t, const RawProcess*> by_host;
  for (const auto& p : processes) by_host[p.host_pid] = &p;
  if (!by_host.count(init_host_pid)) {
    throw Error("the container's init (host pid " + std::to_string(init_host_pid) +
                ") is not in its cgroup");
  }
  if (by_host.at(init_host_pid)->zombie) {
    throw Error("the container's init has exited; there is nothing left to checkpoint");
  }
  std::map<pid_t, std::vector<const RawProcess*>> children;  // host ppid -> children
  for (const auto& p : processes) {
    if (p.zombie && p.host_tids.size() > 1) {
      // The leader's task stays as a zombie until its last thread exits (kernel/exit.c,
      // delay_group_leader): its threads run without it, which a restore cannot recreate.
      throw Error(task_name(p.pid, p.comm) + ": its main thread has exited while " +
                  std::to_string(p.host_tids.size() - 1) +
                  " other thread(s) still run; such a process cannot be checkpointed, retry "
                  "once its threads have exited");
    }
    if (p.host_pid == init_host_pid) continue;
    if (!by_host.count(p.host_ppid)) {
      throw Error(task_name(p.pid, p.comm) + ": its parent (host pid " +
                  std::to_string(p.host_ppid) + ") is outside the container");
    }
    children[p.host_ppid].push_back(&p);
  }
  for (const auto& p : processes) {
    for (pid_t c : p.host_children) {
      if (!by_host.count(c)) {
        throw Error(task_name(p.pid, p.comm) + ": child host pid " + std::to_string(c) +
                    " is outside the container's cgroup");
      }
    }
  }

  std::vector<TreeNode> out;
  std::vector<std::pair<const RawProcess*, pid_t>> queue = {{by_host.at(init_host_pid), 0}};
  for (size_t i = 0; i < queue.size(); ++i) {
    const auto [p, ppid] = queue[i];
    out.push_back(TreeNode{p->host_pid, p->pid, ppid, p->pgid, p->sid, p->comm, p->host_tids,
                           p->tids, p->zombie, p->exit_status});
    auto kids = children[p->host_pid];
    std::sort(kids.begin(), kids.end(),
              [](const RawProcess* a, const RawProcess* b) { return a->pid < b->pid; });
    for (const RawProcess* k : kids) queue.emplace_back(k, p->pid);
  }
  if (out.size() != processes.size()) {
    throw Error("the process tree is not connected (" + std::to_string(processes.size()) +
                " processes, " + std::to_string(out.size()) + " reachable from init)");
  }
  std::set<pid_t> seen;
  for (const auto& n : out) {
    if (!seen.insert(n.pid).second)
      throw Error("two processes share container pid " + std::to_string(n.pid));
  }
  return out;
}

std::vector<RawProcess> read_processes(const cgroup::Cgroup& cgroup, pid_t init_host_pid) {
  ino_t init_ns = pid_ns_inode(init_host_pid);
  std::vector<RawProcess> out;
  std::set<pid_t> known;
  for (pid_t host_pid : cgroup.processes()) {
    out.push_back(read_process(host_pid, init_ns));
    known.insert(host_pid);
  }
  // An exited task leaves cgroup.procs (cgroup_exit) but stays its parent's child until it is
  // reaped; the cgroup is frozen, so no parent can reap one while we look. Zombies have no
  // children of their own (they were reparented at exit), so one pass finds them all.
  std::vector<pid_t> unlisted;
  for (const RawProcess& p : out) {
    for (pid_t c : p.host_children)
      if (!known.count(c)) unlisted.push_back(c);
  }
  for (pid_t c : unlisted) {
    if (!known.insert(c).second) continue;
    RawProcess z = read_process(c, init_ns);
    // A live child outside the cgroup stays unlisted: build_tree names it.
    if (z.zombie) out.push_back(std::move(z));
  }
  return out;
}

std::optional<SharedAddressSpace> shared_address_space(
    const std::vector<TreeNode>& tree, const std::function<bool(pid_t, pid_t)>& same_mm) {
  std::map<pid_t, const TreeNode*> by_pid;
  for (const TreeNode& n : tree) by_pid[n.pid] = &n;
  for (const TreeNode& n : tree) {
    if (n.zombie || n.ppid == 0) continue;
    auto parent = by_pid.find(n.ppid);
    if (parent == by_pid.end() || parent->second->zombie) continue;
    if (same_mm(n.host_pid, parent->second->host_pid))
      return SharedAddressSpace{&n, parent->second};
  }
  return std::nullopt;
}

bool kernel_same_mm(pid_t a, pid_t b) {
  return ::syscall(SYS_kcmp, a, b, KCMP_VM, 0, 0) == 0;
}

}  // namespace ckpt::checkpoint
