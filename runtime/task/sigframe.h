// A signal frame the kernel's rt_sigreturn accepts, built by a tracer for a stopped thread: the
// thread's registers, extended FPU state and signal mask, placed on its own stack so that the
// thread can return to that exact context by itself (DESIGN.md "Never harm the workload").
//
// Why: a dump injects syscalls into live workload threads. If the tracer vanishes (SIGKILL, OOM)
// while a thread's registers point at injected code, the kernel simply resumes the thread from
// wherever it is. With such a frame below its stack and the return slot pointing at the
// thread's own `rt_sigreturn` code, "wherever it is" always ends in rt_sigreturn, which restores
// every register, the xstate and the mask the thread had before the tracer touched it.
//
// Layout, x86-64 (arch/x86/include/asm/sigframe.h, uapi/asm-generic/ucontext.h,
// uapi/asm/sigcontext.h), addresses growing upwards:
//
//   scratch        plan.scratch .. plan.frame       output buffers of injected syscalls
//   pretcode       plan.frame                       the address `ret` jumps to: rt_sigreturn code
//   ucontext       plan.frame + 8                   flags, link, stack, sigcontext, sigmask
//   siginfo        plan.frame + 8 + 304             unused by rt_sigreturn, zero
//   (padding)
//   xsave area     plan.fpstate (64-byte aligned)   XRSTOR from user memory needs the alignment
//   FP_XSTATE_MAGIC2 right after the xsave bytes    the kernel checks it before trusting the area
//   (gap)          .. plan.top
//   red zone       plan.top .. rsp                  128 bytes leaf functions may still use
//
// rt_sigreturn reads the frame at (rsp - 8) when it runs, i.e. rsp must be plan.frame + 8 at
// that moment: exactly what a `ret` that popped the pretcode slot leaves.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "runtime/task/registers.h"

namespace ckpt::task {

// Kernel ABI structures (not glibc's ucontext_t, which differs).
struct KernelSigcontext {
  uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
  uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
  uint16_t cs, gs, fs, ss;
  uint64_t err, trapno, oldmask, cr2;
  uint64_t fpstate;  // user address of the xsave area, 0 = reset the FPU state
  uint64_t reserved1[8];
};
static_assert(sizeof(KernelSigcontext) == 256);

struct KernelStack {  // stack_t
  uint64_t sp;
  int32_t flags;
  int32_t pad;
  uint64_t size;
};
static_assert(sizeof(KernelStack) == 24);

struct KernelUcontext {
  uint64_t flags;
  uint64_t link;
  KernelStack stack;
  KernelSigcontext mcontext;
  uint64_t sigmask;  // the kernel's sigset_t is 64 bits on x86-64
};
static_assert(sizeof(KernelUcontext) == 304);

struct KernelRtSigframe {
  uint64_t pretcode;
  KernelUcontext uc;
  unsigned char info[128];  // siginfo_t
};
static_assert(sizeof(KernelRtSigframe) == 440);

// uc_flags (arch/x86/include/uapi/asm/ucontext.h).
constexpr uint64_t kUcFpXstate = 0x1, kUcSigcontextSs = 0x2, kUcStrictRestoreSs = 0x4;
// Magic words of the xsave area in a signal frame (uapi/asm/sigcontext.h).
constexpr uint32_t kFpXstateMagic1 = 0x46505853, kFpXstateMagic2 = 0x46505845;
// Offset of struct _fpx_sw_bytes in the legacy FXSAVE area (its sw_reserved words).
constexpr size_t kFxSwBytesOffset = 464;
// A stack_t flags value do_sigaltstack() rejects with EINVAL, which restore_altstack() ignores
// ("squash all but EFAULT"): rt_sigreturn then leaves the thread's sigaltstack as it is, which
// we cannot read before the first injected call.
constexpr int32_t kKeepAltstack = 3;
constexpr uint64_t kRedZone = 128;

// Where the frame goes on a stack. Every address is inside [low, top), which is below the red
// zone of `rsp` and inside the mapping that holds rsp.
struct FramePlan {
  uint64_t low = 0;      // lowest byte written (= scratch)
  uint64_t top = 0;      // one past the highest byte written
  uint64_t scratch = 0;  // scratch_size bytes for syscall outputs
  uint64_t scratch_size = 0;
  uint64_t frame = 0;    // the pretcode slot: the thread's rsp while injected code runs
  uint64_t fpstate = 0;  // the xsave area
};

// Plans the frame below `rsp` for an xsave area of `xstate_bytes` and `scratch_size` bytes of
// scratch; nullopt when it does not fit above `stack_floor` (the start of the mapping holding
// rsp). Pure.
std::optional<FramePlan> plan_frame(uint64_t rsp, size_t xstate_bytes, size_t scratch_size,
                                    uint64_t stack_floor);

// The bytes of [plan.frame, plan.top): a frame that makes rt_sigreturn resume `resume` (general
// registers, already rewound for a syscall restart if needed) with `xstate` (NT_X86_XSTATE bytes)
// for the features `xfeatures` and the blocked mask `sigmask`; its return slot holds
// `sigreturn_code`. Pure.
std::string build_frame(const FramePlan& plan, const Regs& resume, const std::string& xstate,
                        uint64_t xfeatures, uint64_t sigmask, uint64_t sigreturn_code);

}  // namespace ckpt::task
