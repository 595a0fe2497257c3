// Recreating the threads of a process. The leader, once its address space, files and
// process-wide state are in place, makes an injected clone3 per extra thread with set_tid =
// the dumped tid. The new thread shares everything the leader has set up so far (mm, files,
// sighand, fs) and inherits its creds, scheduling and fully blocked mask; the kernel clears
// sigaltstack, rseq and clear_child_tid for a CLONE_VM child, so those are set per thread.
//
// The new thread starts at the instruction after the leader's `syscall` in the code page,
// which is `jmp .` (address_space.cc): it spins there, all signals blocked, until we seize
// and interrupt it. (PTRACE_O_TRACECLONE would start it stopped, but SeizedTask can only
// PTRACE_SEIZE, not adopt an auto-attached task; seizing the spinning thread needs no new
// task-layer API.) It runs nothing else but our injected calls and never returns to the
// code page once its final registers are loaded, so the leader may unmap it afterwards.
#include <linux/sched.h>
#include <sys/syscall.h>

#include "common/error.h"
#include "runtime/restore/restore_context.h"
#include "runtime/task/proc.h"

namespace ckpt::restore {

namespace {

// The host tid of the thread that is `tid` in the container, among the leader's threads.
pid_t find_host_tid(pid_t leader_host, pid_t tid) {
  for (pid_t host : task::list_threads(leader_host)) {
    if (task::read_proc_status(host, leader_host).innermost_pid() == tid) return host;
  }
  throw Error("thread " + std::to_string(tid) + " was created but is not in /proc/" +
              std::to_string(leader_host) + "/task");
}

pid_t clone_thread(ProcessContext& leader, pid_t tid) {
  // Scratch layout: the one-element set_tid array, then struct clone_args.
  uint64_t tid_array = leader.put(&tid, sizeof(tid), 0);
  clone_args args{};
  args.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
  // No stack: the thread runs no code that uses one before its registers are replaced.
  args.set_tid = tid_array;
  args.set_tid_size = 1;  // the innermost pid namespace: the container's
  uint64_t addr = leader.put(&args, sizeof(args), 64);
  long got = with_context("create thread " + std::to_string(tid), [&] {
    return leader.remote.check("clone3", SYS_clone3, addr, sizeof(args));
  });
  if (got != tid) {
    throw Error("clone3 with set_tid " + std::to_string(tid) + " created thread " +
                std::to_string(got));
  }
  return find_host_tid(leader.host_pid, tid);
}

void restore_one(ProcessContext& leader, const model::Thread& t, task::SeizedTask& task,
                 pid_t host) {
  task::RemoteSyscaller remote(task, leader.code_area);
  ProcessContext ctx{leader.process, host, task, remote, task::TaskMemory(host), leader.image};
  ctx.code_area = leader.code_area;
  ctx.user_namespace = leader.user_namespace;
  restore_thread_state(ctx, t);
  restore_thread_pending(ctx, t);
  // Filters are per thread too; they go on while the thread still has CAP_SYS_ADMIN.
  restore_seccomp(ctx, t);
  // Credentials are per thread (raw syscalls change only the caller's): each drops its own.
  restore_credentials(ctx);
  restore_thread_registers(ctx, t);
}

}  // namespace

std::vector<task::SeizedTask> restore_threads(ProcessContext& leader, bool suspend_seccomp) {
  std::vector<task::SeizedTask> out;
  const auto& threads = leader.process.threads;
  out.reserve(threads.size() > 0 ? threads.size() - 1 : 0);
  task::SeizeOptions seize{
      .trace_clone = false, .suspend_seccomp = suspend_seccomp, .exit_kill = true};
  // A thread starts with its creator's filters: the chain all threads share goes on the leader
  // now, so they inherit it as one shared chain (seccomp_restore.cc).
  restore_shared_seccomp(leader, suspend_seccomp);
  for (size_t i = 1; i < threads.size(); ++i) {
    const model::Thread& t = threads[i];
    with_context("thread " + std::to_string(t.tid), [&] {
      pid_t host = clone_thread(leader, t.tid);
      out.emplace_back(host, seize);
      out.back().interrupt();
      restore_one(leader, t, out.back(), host);
    });
  }
  return out;
}

}  // namespace ckpt::restore
