// Dumping a thread's seccomp state (DESIGN.md pipeline step 4): its mode and, in filter mode,
// its chain of classic BPF programs with the flags they were installed with. Seccomp is per
// thread: threads of one process may carry different chains (a filter installed without
// SECCOMP_FILTER_FLAG_TSYNC applies to the installing thread and its later children only).
//
// The chain comes from ptrace(PTRACE_SECCOMP_GET_FILTER), which needs the thread in a
// ptrace-stop, a tracer with CAP_SYS_ADMIN that is itself not under seccomp, and a kernel with
// CONFIG_CHECKPOINT_RESTORE (else the kernel keeps no copy of the original program).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string_view>

#include "runtime/model/task_model.h"

namespace ckpt::checkpoint {

// The flags of PTRACE_SECCOMP_GET_METADATA that seccomp(SECCOMP_SET_MODE_FILTER) takes again
// on restore. The kernel reports only SECCOMP_FILTER_FLAG_LOG today; TSYNC and TSYNC_ESRCH
// describe the install, not the filter, and NEW_LISTENER needs a supervisor we cannot recreate.
uint64_t restorable_filter_flags(uint64_t metadata_flags);

// True if the classic BPF program (raw struct sock_filter[]) has a `ret #k` whose action is
// SECCOMP_RET_USER_NOTIF: the filter hands syscalls to a user-space supervisor through a
// listener fd (SECCOMP_FILTER_FLAG_NEW_LISTENER) that a restore cannot reconnect.
bool returns_user_notif(std::string_view program);

// Parses the "Seccomp:" line of a /proc/PID/task/TID/status text into the mode (0 disabled,
// 1 strict, 2 filter) and "Seccomp_filters:" into the chain length (-1 when the kernel does not
// print it). Throws when the mode line is missing.
struct SeccompStatus {
  int mode = 0;
  int filters = -1;
};
SeccompStatus parse_seccomp_status(std::string_view status_text);

// Fills t.seccomp_mode, t.seccomp_filters (oldest first) and t.seccomp_filter_flags for the
// thread `host_tid`, which must be seized and stopped. Throws, naming the thread, for strict
// mode and for user-notifier filters, which cannot be restored.
void dump_seccomp(pid_t host_tid, model::Thread& t);

}  // namespace ckpt::checkpoint
