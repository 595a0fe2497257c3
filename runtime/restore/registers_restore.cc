// The last stage of a thread (for the leader, of the process): unmap the code area with the final
// injected call (the task stops at that syscall's exit, so it never returns into the vanished
// page), then load the dumped xstate, general registers and blocked-signal mask while it is still
// stopped there.
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include <cstring>

#include "common/error.h"
#include "runtime/restore/restore_context.h"
#include "runtime/task/registers.h"

namespace ckpt::restore {

namespace {

void load_registers(ProcessContext& ctx, const model::Thread& t, bool unmap_code_area) {
  std::string raw = with_context("registers", [&] { return ctx.image.read_file(t.regs_file); });
  if (raw.size() != sizeof(task::Regs)) {
    throw Error("registers file " + t.regs_file + " has " + std::to_string(raw.size()) +
                " bytes, expected " + std::to_string(sizeof(task::Regs)) +
                " (struct user_regs_struct, x86-64)");
  }
  task::Regs regs;
  std::memcpy(&regs, raw.data(), sizeof(regs));
  std::string xstate;
  if (!t.xstate_file.empty()) {
    xstate = with_context("xstate", [&] { return ctx.image.read_file(t.xstate_file); });
    if (xstate.size() > task::xstate_size()) {
      throw Error("xstate file " + t.xstate_file + " has " + std::to_string(xstate.size()) +
                  " bytes, more than this CPU's " + std::to_string(task::xstate_size()))
          .with_hint("restore on a CPU with the same xsave features");
    }
  }

  if (unmap_code_area) {
    ctx.remote.check("munmap (code area)", SYS_munmap, ctx.code_area, ctx.code_area_size());
  }
  ctx.remote.forget();
  pid_t tid = ctx.host_pid;
  if (!xstate.empty()) task::set_xstate(tid, xstate);
  // The dump may have caught the thread inside a syscall; this is a new task, so an interrupted
  // nanosleep is re-issued rather than continued through restart_syscall.
  task::apply_syscall_restart(regs, task::RestartPolicy::reissue);
  task::set_regs(tid, regs);
  uint64_t mask = t.blocked_mask;
  if (ptrace(PTRACE_SETSIGMASK, tid, sizeof(mask), &mask) != 0) {
    throw sys_error("ptrace setsigmask task " + std::to_string(tid));
  }
}

}  // namespace

void restore_thread_registers(ProcessContext& ctx, const model::Thread& thread) {
  load_registers(ctx, thread, false);
}

void restore_registers(ProcessContext& ctx) {
  load_registers(ctx, ctx.process.threads.at(0), true);
}

}  // namespace ckpt::restore
