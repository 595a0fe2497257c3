// Executes system calls inside a stopped tracee, as if the tracee had made them.
//
// How: point the tracee's rip at a `syscall` instruction (bytes 0f 05) in its own memory, load
// rax/rdi/rsi/rdx/r10/r8/r9, then PTRACE_SYSCALL to the syscall-entry stop and again to the
// syscall-exit stop, where rax holds the result. The tracee never executes the instruction
// after the `syscall`, so any 0f 05 byte pair in an executable mapping will do, even in the
// middle of another instruction: by default one is found in the [vdso]; the restore places its
// own code page and switches to it with set_syscall_address(). Stopping at syscall exit also
// lets a code page unmap itself as the last injected call.
//
// The tracee's registers are saved on construction and written back by restore() (or the
// destructor), with the syscall-restart rewind applied when the task had been interrupted
// inside a syscall (see apply_syscall_restart).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>

#include "runtime/task/ptrace_attachment.h"
#include "runtime/task/registers.h"
#include "runtime/task/syscaller.h"

namespace ckpt::task {

class RemoteSyscaller : public Syscaller {
 public:
  // The task must be in a ptrace-stop. Finds a syscall instruction in the task's [vdso] (or
  // any other executable mapping); throws if there is none.
  explicit RemoteSyscaller(SeizedTask& task);
  RemoteSyscaller(SeizedTask& task, uint64_t syscall_insn);
  RemoteSyscaller(const RemoteSyscaller&) = delete;
  RemoteSyscaller& operator=(const RemoteSyscaller&) = delete;
  // Calls restore() unless forget() was called; errors are swallowed.
  ~RemoteSyscaller() override;

  pid_t tid() const override { return task_.tid(); }
  void set_syscall_address(uint64_t addr) { insn_ = addr; }
  uint64_t syscall_address() const { return insn_; }
  const Regs& saved_regs() const { return saved_; }
  SeizedTask& task() { return task_; }

  // Writes the saved registers back (with the restart rewind). The task stays stopped.
  void restore(RestartPolicy policy = RestartPolicy::restart_block_valid);
  // The caller takes over the registers (the restore sets the dumped ones itself).
  void forget() { restored_ = true; }

 protected:
  long invoke(long nr, const std::array<uint64_t, 6>& args) override;

 private:
  SeizedTask& task_;
  uint64_t insn_ = 0;
  Regs saved_{};
  bool restored_ = false;
};

// Finds the address of a 0f 05 byte pair in an executable mapping of `pid`, preferring [vdso].
uint64_t find_syscall_insn(pid_t pid);

// Resumes `task` with PTRACE_SYSCALL until its next syscall-entry or -exit stop; a signal that
// stops it first is taken off and kept (SeizedTask::defer_current_signal).
void run_to_syscall_stop(SeizedTask& task);

// The instants of one injected call, for callers that act between them (guarded_syscall.h).
enum class SyscallPhase { loaded, entered, returned };

// Runs syscall `nr` with `args` from the `syscall` instruction at `insn`, starting from
// registers `base` (only rip, rax, the argument registers and orig_rax are replaced), and
// returns rax at syscall exit. Throws if the task stops at the entry of another syscall.
// `on_phase`, if given, is called once the registers are loaded, at the entry stop and at the
// exit stop.
long run_syscall_at(SeizedTask& task, const Regs& base, uint64_t insn, long nr,
                    const std::array<uint64_t, 6>& args,
                    const std::function<void(SyscallPhase)>& on_phase = {});

}  // namespace ckpt::task
