#include "runtime/task/guarded_syscall.h"

#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include <algorithm>
#include <utility>

#include "common/error.h"
#include "runtime/task/memory.h"
#include "runtime/task/remote_syscall.h"

namespace ckpt::task {

namespace {

constexpr uint64_t kAllSignals = ~uint64_t{0};
constexpr uint64_t kFallbackScratch = 4096;

std::string who(pid_t tid) {
  return "task " + std::to_string(tid);
}

// The writable mapping holding `addr`, if any.
const MapEntry* stack_mapping(const std::vector<MapEntry>& maps, uint64_t addr) {
  for (const MapEntry& m : maps) {
    if (addr > m.start && addr <= m.end)  // rsp may equal end: an empty full-descending stack
      return (m.prot & (PROT_READ | PROT_WRITE)) == (PROT_READ | PROT_WRITE) ? &m : nullptr;
  }
  return nullptr;
}

}  // namespace

const char* guard_step_name(GuardStep step) {
  switch (step) {
    case GuardStep::frame_written:
      return "frame_written";
    case GuardStep::parked:
      return "parked";
    case GuardStep::signals_blocked:
      return "signals_blocked";
    case GuardStep::call_prepared:
      return "call_prepared";
    case GuardStep::call_entered:
      return "call_entered";
    case GuardStep::call_returned:
      return "call_returned";
    case GuardStep::signals_restored:
      return "signals_restored";
    case GuardStep::registers_restored:
      return "registers_restored";
    case GuardStep::stack_restored:
      return "stack_restored";
  }
  return "?";
}

uint64_t get_sigmask(pid_t tid) {
  uint64_t mask = 0;
  if (ptrace(static_cast<__ptrace_request>(PTRACE_GETSIGMASK), tid,
             reinterpret_cast<void*>(sizeof mask), &mask) != 0)
    throw sys_error("ptrace getsigmask " + who(tid));
  return mask;
}

void set_sigmask(pid_t tid, uint64_t mask) {
  if (ptrace(static_cast<__ptrace_request>(PTRACE_SETSIGMASK), tid,
             reinterpret_cast<void*>(sizeof mask), &mask) != 0)
    throw sys_error("ptrace setsigmask " + who(tid));
}

GuardedSyscaller::GuardedSyscaller(SeizedTask& thread, const Gadgets& gadgets,
                                   const std::vector<MapEntry>& maps, GuardOptions options)
    : thread_(thread), options_(std::move(options)) {
  if (!thread_.stopped()) throw Error("guarded syscall: " + who(tid()) + " is not stopped");
  original_ = get_regs(tid());
  original_mask_ = get_sigmask(tid());
  std::string xstate = get_xstate(tid());
  if (gadgets.complete()) {
    if (const MapEntry* stack = stack_mapping(maps, original_.rsp))
      plan_ = plan_frame(original_.rsp, xstate.size(), options_.scratch_size, stack->start);
  }
  try {
    if (plan_)
      start_guarded(gadgets, xstate);
    else
      start_fallback();
  } catch (...) {
    finish();  // puts back whatever was changed; the error that stopped us is the one to report
    throw;
  }
}

void GuardedSyscaller::start_guarded(const Gadgets& gadgets, const std::string& xstate) {
  const FramePlan& plan = *plan_;
  TaskMemory mem(tid());
  saved_stack_.resize(plan.top - plan.low);
  mem.read(plan.low, saved_stack_.data(), saved_stack_.size());

  // The context rt_sigreturn resumes must already be rewound: it returns straight to user mode
  // and clears orig_rax, so a thread stopped inside a syscall would otherwise see -ERESTART*.
  // Re-issue rather than restart_syscall: rt_sigreturn resets the thread's restart_block.
  Regs resume = original_;
  apply_syscall_restart(resume, RestartPolicy::reissue);
  std::string frame =
      build_frame(plan, resume, xstate, xsave_features(), original_mask_, gadgets.sigreturn);
  frame_written_ = true;  // from here on, a failed write may have changed part of the area
  mem.write(plan.frame, frame.data(), frame.size());
  step(GuardStep::frame_written);

  chain_ = original_;
  chain_.rsp = plan.frame;
  chain_.orig_rax = static_cast<unsigned long long>(-1);
  syscall_insn_ = gadgets.syscall_ret;
  // Parked on a harmless call: if we vanish now the thread runs getpid, then rt_sigreturn.
  Regs parked = chain_;
  parked.rip = syscall_insn_;
  parked.rax = SYS_getpid;
  set_regs(tid(), parked);
  step(GuardStep::parked);
  // Blocked while we work, so no signal-delivery-stop takes a signal off the thread; the real
  // mask is in the frame and comes back with rt_sigreturn or finish().
  set_sigmask(tid(), kAllSignals);
  step(GuardStep::signals_blocked);
  scratch_ = plan.scratch;
  scratch_size_ = plan.scratch_size;
}

void GuardedSyscaller::start_fallback() {
  chain_ = original_;
  syscall_insn_ = find_syscall_insn(tid());
  set_sigmask(tid(), kAllSignals);
  step(GuardStep::signals_blocked);
  long addr = check("mmap (scratch)", SYS_mmap, 0, kFallbackScratch, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, ~0ULL, 0);
  scratch_ = static_cast<uint64_t>(addr);
  scratch_size_ = kFallbackScratch;
}

long GuardedSyscaller::invoke(long nr, const std::array<uint64_t, 6>& args) {
  if (finished_) throw Error("guarded syscall in " + who(tid()) + " after finish()");
  if (!thread_.stopped()) throw Error("guarded syscall: " + who(tid()) + " is not stopped");
  return run_syscall_at(thread_, chain_, syscall_insn_, nr, args, [this](SyscallPhase p) {
    step(p == SyscallPhase::loaded    ? GuardStep::call_prepared
         : p == SyscallPhase::entered ? GuardStep::call_entered
                                      : GuardStep::call_returned);
  });
}

void GuardedSyscaller::finish() {
  if (finished_) return;
  if (tid() < 0) {
    finished_ = true;
    return;
  }
  if (!plan_ && scratch_ != 0) {
    long r = call(SYS_munmap, std::exchange(scratch_, 0), scratch_size_);
    if (r < 0) throw Error("remote munmap (scratch) in " + who(tid()), static_cast<int>(-r));
  }
  finished_ = true;
  // Each step leaves a state that is safe if we vanish right after it: the mask first (the
  // registers still lead to rt_sigreturn), then the registers (the thread is itself again),
  // then the bytes under the frame.
  set_sigmask(tid(), original_mask_);
  step(GuardStep::signals_restored);
  Regs regs = original_;
  apply_syscall_restart(regs, RestartPolicy::restart_block_valid);
  set_regs(tid(), regs);
  step(GuardStep::registers_restored);
  if (frame_written_) {
    TaskMemory(tid()).write(plan_->low, saved_stack_.data(), saved_stack_.size());
    step(GuardStep::stack_restored);
  }
}

GuardedSyscaller::~GuardedSyscaller() {
  try {
    finish();
  } catch (...) {
    // The thread is gone, or the tracer lost it: nothing is left to put back.
  }
}

}  // namespace ckpt::task
