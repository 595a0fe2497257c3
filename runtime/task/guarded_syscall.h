// Remote syscalls in a live workload thread that are safe at every instant for the thread, even
// if the tracer is killed in the middle (DESIGN.md "Never harm the workload").
//
// How (sigframe.h, gadgets.h): before any register is changed, a signal frame holding the
// thread's registers (rewound if it was inside a syscall), xstate and signal mask is written
// below its stack's red zone, with the return slot pointing at the thread's own rt_sigreturn
// code. Each call then runs from a `syscall ... ret` sequence the thread already has, with rsp
// at that frame: whatever the tracer manages to do before it vanishes, the thread runs at most
// the injected query, `ret`s into rt_sigreturn and is back in its own context. Signals are
// blocked while calls run (the frame holds the real mask), so none is taken off the thread.
// finish() puts the mask, the registers and finally the stack bytes back, in that order, so
// each step leaves a state that is safe to abandon. The calls must be queries (they may write
// only into scratch(), which is part of the saved stack area).
//
// When the thread has no usable gadgets or no room on its stack, the guard falls back to plain
// injection (remote_syscall.h) with a scratch page mmapped into the task: `guarded()` is then
// false and a tracer death while a call is under way can hurt the thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "runtime/task/gadgets.h"
#include "runtime/task/maps.h"
#include "runtime/task/ptrace_attachment.h"
#include "runtime/task/registers.h"
#include "runtime/task/sigframe.h"
#include "runtime/task/syscaller.h"

namespace ckpt::task {

// The instants between the guard's ptrace requests, for tests that kill the tracer at each.
enum class GuardStep {
  frame_written,       // the frame is on the stack, registers untouched
  parked,              // registers point at the gadget (a harmless getpid) and the frame
  signals_blocked,     // all signals blocked
  call_prepared,       // registers loaded for the next call
  call_entered,        // at its syscall-entry stop
  call_returned,       // at its syscall-exit stop
  signals_restored,    // the thread's own mask is back
  registers_restored,  // the thread's own registers are back
  stack_restored,      // the stack bytes under the frame are back: nothing of ours is left
};
const char* guard_step_name(GuardStep step);

struct GuardOptions {
  size_t scratch_size = 512;  // bytes of output buffer the calls may write into
  // FOR TESTS ONLY: called at every step (a test's tracer kills itself there).
  std::function<void(GuardStep)> on_step;
};

class GuardedSyscaller : public Syscaller {
 public:
  // `thread` must be in a ptrace-stop. `maps` is the process's current /proc/PID/maps (the
  // mapping holding the thread's rsp must have room for the frame).
  GuardedSyscaller(SeizedTask& thread, const Gadgets& gadgets, const std::vector<MapEntry>& maps,
                   GuardOptions options = {});
  GuardedSyscaller(const GuardedSyscaller&) = delete;
  GuardedSyscaller& operator=(const GuardedSyscaller&) = delete;
  // finish() unless it already ran; errors are swallowed (the thread may be gone).
  ~GuardedSyscaller() override;

  pid_t tid() const override { return thread_.tid(); }
  bool guarded() const { return plan_.has_value(); }
  // Where calls may write their results: part of the saved stack area (guarded) or the mmapped
  // scratch page (fallback).
  uint64_t scratch() const { return scratch_; }
  uint64_t scratch_size() const { return scratch_size_; }
  // The registers the thread had when the guard began (as stopped, not rewound).
  const Regs& original_regs() const { return original_; }

  // Puts back the signal mask, the registers (rewound for a syscall restart) and the stack.
  void finish();

 protected:
  long invoke(long nr, const std::array<uint64_t, 6>& args) override;

 private:
  void step(GuardStep s) const {
    if (options_.on_step) options_.on_step(s);
  }
  void start_guarded(const Gadgets& gadgets, const std::string& xstate);
  void start_fallback();

  SeizedTask& thread_;
  GuardOptions options_;
  Regs original_{};
  uint64_t original_mask_ = 0;
  std::optional<FramePlan> plan_;
  std::string saved_stack_;  // bytes of [plan.low, plan.top) before the frame
  Regs chain_{};             // registers while calls run: rsp at the frame
  uint64_t syscall_insn_ = 0;
  uint64_t scratch_ = 0, scratch_size_ = 0;
  bool frame_written_ = false;
  bool finished_ = false;
};

// PTRACE_GETSIGMASK / PTRACE_SETSIGMASK (64-bit mask, bit n-1 for signal n).
uint64_t get_sigmask(pid_t tid);
void set_sigmask(pid_t tid, uint64_t mask);

}  // namespace ckpt::task
