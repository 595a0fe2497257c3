// Per-process state that /proc and pid-taking syscalls reveal without stopping the task in a
// special way: tree fields, credentials, capabilities, umask, mm layout (stat fields and auxv),
// rlimits (/proc/PID/limits), scheduler settings, personality, cwd/root/exe. The parsers are pure
// and unit-tested; collect_proc_state() does the reads.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/model/task_model.h"

namespace ckpt::checkpoint {

// Fields of /proc/PID/stat (proc(5) numbering). Pids are as seen by the reader (host view).
struct StatFields {
  char state = '?';
  pid_t ppid = 0, pgrp = 0, session = 0;
  uint64_t start_code = 0, end_code = 0, start_stack = 0;           // fields 26-28
  uint64_t start_data = 0, end_data = 0, start_brk = 0;             // 45-47
  uint64_t arg_start = 0, arg_end = 0, env_start = 0, env_end = 0;  // 48-51
  int exit_code = 0;                                                // field 52 (zombies)
};
StatFields parse_stat(const std::string& text);

// What /proc/PID/status says about credentials and security state.
struct StatusFields {
  uint32_t uid[4] = {}, gid[4] = {};
  std::vector<uint32_t> groups;
  uint64_t cap_inh = 0, cap_prm = 0, cap_eff = 0, cap_bnd = 0, cap_amb = 0;
  bool no_new_privs = false;
  int seccomp = 0;  // 0 disabled, 1 strict, 2 filter
  uint32_t umask = 022;
  bool has_umask = false;
  uint64_t sig_ignored = 0, sig_caught = 0;  // SigIgn, SigCgt: bit n-1 for signal n
};
StatusFields parse_status_fields(const std::string& text);

// /proc/PID/auxv: native u64 (type, value) pairs ending with AT_NULL; returns the pairs
// including the terminating AT_NULL pair.
std::vector<uint64_t> parse_auxv(const std::string& bytes);

// /proc/PID/personality: one hex number.
uint64_t parse_personality(const std::string& text);

// /proc/PID/limits: every limit of <sys/resource.h>, in resource order ("unlimited" is
// RLIM_INFINITY). Throws naming the line if a row is missing, repeated or malformed.
std::vector<model::Rlimit> parse_limits(const std::string& text);

// Fills the /proc- and syscall-visible fields of `p` for host pid `host_pid`: creds, caps,
// umask, mm (without brk, which only the task can tell), auxv, exe, cwd/root (container view,
// relative to `root`), rlimits, scheduler, nice, personality. Throws if the task runs a seccomp
// filter or if cwd/exe are outside the container.
// Returns the status fields for the caller's further use (signal dispositions).
StatusFields collect_proc_state(pid_t host_pid, const std::string& root, model::Process& p);

// The host-view root of the container (readlink /proc/PID/root).
std::string read_root(pid_t host_pid);

}  // namespace ckpt::checkpoint
