// plan_restore(): the order in which the stub tree is forked.
//
// Sessions and process groups cannot be set on another process after the fact: a process
// joins a session only by inheriting it at fork or by setsid(), and setpgid() needs the target
// group to exist already in the caller's session. So each stub is created by its real parent
// (inheriting the parent's final session and group), then calls setsid() or setpgid() itself,
// and a process that joins a group led by another stub is created after that leader.
#include <signal.h>

#include <map>
#include <set>

#include "common/error.h"
#include "runtime/restore/restore.h"

namespace ckpt::restore {

namespace {

std::string pid_str(pid_t pid) {
  return "pid " + std::to_string(pid);
}

// A wait status a process can end with: an exit code (code << 8), or a signal whose default
// action terminates it (| 0x80 when it dumped core). The zombie's stub recreates it with
// _exit() or by raising that signal (stub.cc), which the ignore/stop signals cannot do.
bool is_death_status(int status) {
  int sig = status & 0x7f;
  if (sig == 0) return (status & ~0xff00) == 0;
  if ((status & ~0xff) != 0 || sig > 64) return false;
  switch (sig) {
    case SIGCHLD:
    case SIGCONT:
    case SIGURG:
    case SIGWINCH:
    case SIGSTOP:
    case SIGTSTP:
    case SIGTTIN:
    case SIGTTOU:
      return false;
    default:
      return true;
  }
}

void check_supported(const model::Process& p) {
  if (p.zombie) {
    // Nothing but the exit is left of a zombie: its stub only exits (stub.cc).
    if (p.ppid == 0) throw Error(pid_str(p.pid) + ": the root process cannot be a zombie");
    if (p.threads.size() > 1) {
      throw Error(pid_str(p.pid) + " is a zombie with " + std::to_string(p.threads.size()) +
                  " threads: a zombie has none left");
    }
    if (!is_death_status(p.exit_status)) {
      throw Error(pid_str(p.pid) + " is a zombie with exit status " +
                  std::to_string(p.exit_status) +
                  ", which is neither an exit code nor a death by signal");
    }
    return;
  }
  if (p.threads.empty()) throw Error(pid_str(p.pid) + " has no threads in the checkpoint");
  if (p.threads[0].tid != p.pid) {
    throw Error(pid_str(p.pid) + ": its first thread has tid " + std::to_string(p.threads[0].tid) +
                ", expected the thread-group leader");
  }
  // Threads are recreated with clone3(set_tid): every tid must be free and distinct.
  std::set<pid_t> tids;
  for (const model::Thread& t : p.threads) {
    if (t.tid <= 0 || !tids.insert(t.tid).second) {
      throw Error(pid_str(p.pid) + ": invalid or duplicate thread id " + std::to_string(t.tid));
    }
  }
}

}  // namespace

int RestorePlan::index_of(pid_t pid) const {
  for (size_t i = 0; i < processes.size(); ++i) {
    if (processes[i].pid == pid) return static_cast<int>(i);
  }
  return -1;
}

RestorePlan plan_restore(const model::Checkpoint& checkpoint) {
  std::map<pid_t, const model::Process*> by_pid;
  const model::Process* root = nullptr;
  for (const model::Process& p : checkpoint.processes) {
    if (p.pid <= 0) throw Error("process with invalid pid " + std::to_string(p.pid));
    if (!by_pid.emplace(p.pid, &p).second) throw Error(pid_str(p.pid) + " appears twice");
    check_supported(p);
    if (p.ppid == 0) {
      if (root != nullptr) {
        throw Error("two processes without a parent (" + pid_str(root->pid) + ", " +
                    pid_str(p.pid) + "): the checkpoint must hold one tree");
      }
      root = &p;
    }
  }
  if (root == nullptr) throw Error("the checkpoint has no root process (ppid 0)");
  if (root->pid != 1) {
    throw Error("the root process has " + pid_str(root->pid) +
                ": the tree must start at the pid namespace's init (pid 1)");
  }

  for (const auto& [pid, p] : by_pid) {
    if (p->ppid != 0 && by_pid.count(p->ppid) == 0) {
      throw Error(pid_str(pid) + ": parent " + pid_str(p->ppid) + " is not in the checkpoint");
    }
    if (p->ppid != 0 && by_pid.at(p->ppid)->zombie) {
      // The kernel reparents the children of an exiting task; a zombie parent means a damaged
      // or hand-made image.
      throw Error(pid_str(pid) + ": its parent " + pid_str(p->ppid) + " is a zombie");
    }
    // A session id of 0 means the session is outside the namespace: only the root may be so.
    if (p->sid != p->pid && p->ppid != 0) {
      const model::Process& parent = *by_pid.at(p->ppid);
      if (p->sid != parent.sid) {
        throw Error(pid_str(pid) + " is in session " + std::to_string(p->sid) + " but its parent " +
                    pid_str(parent.pid) + " is in session " + std::to_string(parent.sid) +
                    ": a session inherited before the parent's setsid() is not supported yet");
      }
    }
    if (p->pgid != p->pid && p->pgid != 0 &&
        (p->ppid == 0 || p->pgid != by_pid.at(p->ppid)->pgid)) {
      auto leader = by_pid.find(p->pgid);
      if (leader == by_pid.end()) {
        throw Error(pid_str(pid) + " is in process group " + std::to_string(p->pgid) +
                    " whose leader is not in the checkpoint: not supported yet");
      }
      if (leader->second->sid != p->sid) {
        throw Error(pid_str(pid) + ": process group " + std::to_string(p->pgid) +
                    " belongs to another session");
      }
    }
  }

  // Repeatedly take the lowest pid whose parent and group leader are already placed; pids
  // mostly reflect the original creation order, so this stays close to it.
  RestorePlan plan;
  std::set<pid_t> placed;
  std::set<pid_t> left;
  for (const auto& [pid, p] : by_pid) left.insert(pid);
  while (!left.empty()) {
    bool progress = false;
    for (pid_t pid : left) {
      const model::Process& p = *by_pid.at(pid);
      bool parent_ok = p.ppid == 0 || placed.count(p.ppid) != 0;
      bool inherits_group = p.ppid != 0 && p.pgid == by_pid.at(p.ppid)->pgid;
      bool joins = p.pgid != p.pid && p.pgid != 0 && !inherits_group && p.ppid != 0;
      if (!parent_ok || (joins && placed.count(p.pgid) == 0)) continue;
      StubSpec s;
      s.pid = pid;
      s.parent = p.ppid == 0 ? -1 : plan.index_of(p.ppid);
      s.setsid = p.sid == p.pid;
      s.new_group = !s.setsid && p.pgid == p.pid;
      s.join_group = joins ? p.pgid : 0;
      s.zombie = p.zombie;
      s.exit_status = p.exit_status;
      if (p.zombie) s.comm = p.comm;
      plan.processes.push_back(s);
      placed.insert(pid);
      left.erase(pid);
      progress = true;
      break;
    }
    if (!progress) {
      throw Error("process groups of pids " + std::to_string(*left.begin()) +
                  "... depend on each other in a cycle: cannot order their creation");
    }
  }
  return plan;
}

}  // namespace ckpt::restore
