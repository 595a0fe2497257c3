// Internal to the restore engine: the state of restoring one process, and the stages that
// turn a stub into the dumped process. Each stage lives in its own file and runs injected
// syscalls in the stopped stub through `remote`.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/model/id_map.h"
#include "runtime/model/task_model.h"
#include "runtime/restore/image_source.h"
#include "runtime/task/memory.h"
#include "runtime/task/ptrace_attachment.h"
#include "runtime/task/remote_syscall.h"

namespace ckpt::restore {

class FdChannel;
class FileTable;

// The injected-code area, placed in a hole of both the stub's and the target layout:
// one R-X page starting with `syscall`, then read-write scratch pages for syscall arguments.
// Scratch must hold the largest argument: a seccomp filter of BPF_MAXINSNS (4096) 8-byte
// instructions plus its struct sock_fprog (seccomp_restore.cc).
constexpr uint64_t kCodePages = 1;
constexpr uint64_t kScratchPages = 10;
constexpr uint64_t kPageSize = 4096;

struct ProcessContext {
  const model::Process& process;
  pid_t host_pid;
  task::SeizedTask& task;
  task::RemoteSyscaller& remote;
  task::TaskMemory memory;
  const ImageSource& image;
  // shared_id -> fd the stub inherited for each shared anonymous object (RestoreOptions);
  // null when the restore has none.
  const std::map<uint64_t, int>* shared_memory_fds = nullptr;
  // The open file descriptions, made by the restorer (file_table.h), and the channel that puts
  // them into this stub (fd_channel.h; open from the code area to the end of restore_files).
  const FileTable* files = nullptr;
  FdChannel* channel = nullptr;
  // The container's user namespace as dumped (its maps equal the restored one's, checked by
  // check_user_namespace); null when the image has none.
  const model::UserNamespace* user_namespace = nullptr;
  uint64_t code_area = 0;  // start of the code page; scratch follows it
  uint64_t code_area_size() const { return (kCodePages + kScratchPages) * kPageSize; }
  uint64_t scratch() const { return code_area + kCodePages * kPageSize; }
  uint64_t scratch_size() const { return kScratchPages * kPageSize; }

  // Copies `len` bytes into the scratch area at `offset` and returns their remote address.
  uint64_t put(const void* data, size_t len, size_t offset = 0);
  // A NUL-terminated string in scratch (paths up to the scratch size).
  uint64_t put_string(const std::string& text, size_t offset = 0);
  std::string who() const { return "restore pid " + std::to_string(process.pid); }
};

// address_space.cc: code page, vdso/vvar move, unmapping the stub, mapping and filling the
// dumped VMAs.
void install_code_area(ProcessContext& ctx);
void replace_address_space(ProcessContext& ctx);
// page_fill.cc: writes every dumped page run of `vmas` (address order, already mapped writable)
// from the process's page stream.
void fill_pages(ProcessContext& ctx, const std::vector<const model::Vma*>& vmas);
// mm_restore.cc: prctl(PR_SET_MM_MAP): brk, arg/env, auxv, exe.
void restore_mm(ProcessContext& ctx);
// fds_restore.cc: the file table (each fd gets its description through the channel, which is
// closed at the end), cwd, root, umask.
void restore_files(ProcessContext& ctx);
// The highest fd number in the process's dumped fd table (-1 if none): the channel sits above.
int highest_fd(const model::Process& p);
// signals_restore.cc: sigactions and pending signals (the mask goes with the registers).
void restore_sigactions(ProcessContext& ctx);
void restore_pending_signals(ProcessContext& ctx);  // process-wide and the leader's own
void restore_thread_pending(ProcessContext& ctx, const model::Thread& thread);
// process_state_restore.cc: rlimits, personality, scheduling, prctl flags, per-thread bits.
void restore_process_state(ProcessContext& ctx);
// The per-thread part (sigaltstack, clear_child_tid, name, rseq), run in the thread itself.
void restore_thread_state(ProcessContext& ctx, const model::Thread& thread);
// seccomp_restore.cc: a thread's seccomp filter chain, injected oldest first; runs right before
// the thread's credentials (installing needs CAP_SYS_ADMIN or no_new_privs) and requires the
// tasks seized with PTRACE_O_SUSPEND_SECCOMP so the injected calls that follow pass the filters.
// restore_seccomp installs what the thread does not already share with its siblings;
// restore_shared_seccomp installs the part common to all threads on the leader, before it
// clones them, so they inherit it as one shared chain (as TSYNC expects); it also refuses a
// process with filters when the tasks are not seized with `suspend_seccomp`.
void restore_seccomp(ProcessContext& ctx, const model::Thread& thread);
void restore_shared_seccomp(ProcessContext& leader, bool suspend_seccomp);
// Pure: how many leading filters (program and flags) every thread of `p` has in common; 0 for a
// single-threaded process.
size_t shared_seccomp_prefix(const model::Process& p);
// Pure: throws one line naming the thread when its seccomp state cannot be restored (strict
// mode, a damaged program, a program over `max_program_bytes`, unknown flags).
void check_seccomp(const model::Thread& thread, size_t max_program_bytes);
// timers_restore.cc: interval timers and POSIX timers (same ids), armed with the remaining
// time. After restore_threads (thread targets must exist), before restore_credentials.
void restore_timers(ProcessContext& ctx);
// credentials_restore.cc: groups, ids, capabilities, securebits, no_new_privs, dumpable.
void restore_credentials(ProcessContext& ctx);

// What restore_credentials does about supplementary groups (pure). In a user namespace whose
// setgroups is "deny", setgroups(2) fails with EPERM for everyone inside (kernel/groups.c
// may_setgroups, userns_may_setgroups), and groups the namespace does not map cannot be set by
// anyone inside; in both cases the process can only have what the stub inherited.
struct GroupsStep {
  enum class Kind { keep, set, refuse };
  Kind kind = Kind::keep;
  std::string reason;  // refuse: why, and what to do
};
// `now`: the stub's groups, split by the namespace's gid_map (all mapped when there is none).
GroupsStep plan_groups(const model::Process& p, const model::SplitGroups& now,
                       bool setgroups_allowed);

// user_namespace_check.cc: throws one line unless the restored container's user namespace (the
// one of `init_host_pid`) is the dumped one: both absent, or the same uid_map, gid_map (outside
// ids in our view) and setgroups mode. Ids restored into other maps would be other host ids.
void check_user_namespace(pid_t init_host_pid, const std::optional<model::UserNamespace>& dumped);
// registers_restore.cc: the last step: unmap the code area and load the dumped registers.
void restore_registers(ProcessContext& ctx);
// Loads a non-leader thread's xstate, registers and mask (the code area stays mapped).
void restore_thread_registers(ProcessContext& ctx, const model::Thread& thread);
// threads_restore.cc: creates threads[1..] with clone3(set_tid) from the leader and gives each
// its own state and final registers; returns their attachments (stopped). Runs before the
// leader's credentials (set_tid needs CAP_CHECKPOINT_RESTORE) and its final registers (the
// threads are created by and run in the code area the leader unmaps last).
std::vector<task::SeizedTask> restore_threads(ProcessContext& leader, bool suspend_seccomp);

}  // namespace ckpt::restore
