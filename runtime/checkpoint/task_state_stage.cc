// Stage `task_state` (DESIGN.md pipeline step 4): per process its /proc-visible state, per
// thread registers and signal state through ptrace, then what only the task can tell through
// injected syscalls. Registers are read before any injection: the files hold the thread's
// registers exactly as stopped (orig_rax and -ERESTART* intact; the restorer rewinds them).
#include <signal.h>

#include <cstring>

#include "common/error.h"
#include "common/file_util.h"
#include "runtime/checkpoint/dump_context.h"
#include "runtime/checkpoint/injected_state.h"
#include "runtime/checkpoint/proc_state.h"
#include "runtime/checkpoint/ptrace_queries.h"
#include "runtime/checkpoint/seccomp_dump.h"
#include "runtime/task/guarded_syscall.h"
#include "runtime/task/registers.h"

namespace ckpt::checkpoint {

namespace {

// /proc/PID/task/TID/comm ends with a newline; the name itself may hold any other byte.
std::string trim_comm(std::string text) {
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

model::Thread dump_thread(DumpContext& ctx, pid_t host_tid, pid_t tid) {
  model::Thread t;
  t.tid = tid;
  task::Regs regs = task::get_regs(host_tid);
  t.regs_file = "regs-" + std::to_string(tid);
  ctx.writer.add_file(t.regs_file,
                      std::string_view(reinterpret_cast<const char*>(&regs), sizeof regs));
  t.xstate_file = "xstate-" + std::to_string(tid);
  ctx.writer.add_file(t.xstate_file, task::get_xstate(host_tid));
  t.fs_base = regs.fs_base;
  t.gs_base = regs.gs_base;
  t.blocked_mask = task::get_sigmask(host_tid);
  for (auto& raw : peek_pending(host_tid, false)) t.pending.push_back({std::move(raw)});
  RseqConfig rseq = get_rseq(host_tid);
  t.rseq_addr = rseq.addr;
  t.rseq_len = rseq.len;
  t.rseq_sig = rseq.sig;
  dump_seccomp(host_tid, t);
  return t;
}

void dump_process(DumpContext& ctx, SeizedProcess& sp, model::Process& p) {
  const TreeNode& node = sp.node;
  p.pid = node.pid;
  p.ppid = node.ppid;
  p.pgid = node.pgid;
  p.sid = node.sid;
  p.comm = node.comm;
  if (node.zombie) {
    // Only what its parent and the restore's stub need: identity, groups and wait status.
    p.zombie = true;
    p.exit_status = node.exit_status;
    return;
  }
  StatusFields st = collect_proc_state(node.host_pid, ctx.root, p);

  p.threads.clear();
  for (size_t i = 0; i < sp.threads.size(); ++i) {
    p.threads.push_back(dump_thread(ctx, node.host_tids[i], node.tids[i]));
    // A thread's own name (pthread_setname_np); empty when it is the process's, which the
    // leader's name already carries (the leader's comm is the process comm).
    std::string comm = trim_comm(read_file("/proc/" + std::to_string(node.host_pid) + "/task/" +
                                           std::to_string(node.host_tids[i]) + "/comm"));
    if (i > 0 && comm != p.comm) p.threads.back().comm = comm;
  }
  for (auto& raw : peek_pending(node.host_pid, true)) p.shared_pending.push_back({std::move(raw)});

  collect_injected_state(sp.threads, st.sig_caught | st.sig_ignored, p, ctx.gadgets);

  // Signals a signal-delivery-stop took off a thread were queued to it again at once (so a
  // tracer death loses none); record each with its original siginfo, not the copy's.
  for (size_t i = 0; i < sp.threads.size(); ++i) {
    std::vector<std::string> queued;
    for (auto& s : p.threads[i].pending) queued.push_back(std::move(s.siginfo));
    p.threads[i].pending.clear();
    for (auto& raw : with_original_siginfo(std::move(queued), sp.threads[i].deferred_signals()))
      p.threads[i].pending.push_back({std::move(raw)});
  }
}

}  // namespace

void task_state_stage(DumpContext& ctx) {
  auto& procs = ctx.seized.processes();
  for (size_t i = 0; i < procs.size(); ++i) {
    with_context(task_name(procs[i].node.pid, procs[i].node.comm),
                 [&] { dump_process(ctx, procs[i], ctx.processes[i]); });
  }
}

}  // namespace ckpt::checkpoint
