// Facts about a task read from /proc: its parent, thread group and its pids as seen from each
// pid namespace (NSpid), used by `ps` and by the checkpoint's tree builder.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace ckpt::task {

struct ProcStatus {
  pid_t pid = 0;   // host view
  pid_t tgid = 0;  // host view
  pid_t ppid = 0;  // host view
  std::string name;
  char state = '?';          // R S D T t Z ...
  std::vector<pid_t> nspid;  // outermost (host) first, innermost last
  std::vector<pid_t> nstgid;
  pid_t innermost_pid() const { return nspid.empty() ? pid : nspid.back(); }
};

// Parses the text of /proc/PID/status (unit-tested with fixtures).
ProcStatus parse_proc_status(const std::string& text);
// Reads /proc/PID/status, or /proc/TGID/task/TID/status when tgid is given.
ProcStatus read_proc_status(pid_t pid, pid_t tgid = 0);
// Lists the threads of a process from /proc/PID/task, sorted.
std::vector<pid_t> list_threads(pid_t pid);
// Lists the open fds of a process from /proc/PID/fd, sorted.
std::vector<int> list_fds(pid_t pid);

}  // namespace ckpt::task
