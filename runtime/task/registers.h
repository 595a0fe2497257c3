// Registers of a stopped thread through PTRACE_GETREGSET/SETREGSET: the general registers
// (NT_PRSTATUS, struct user_regs_struct, which also carries fs_base and gs_base) and the
// extended FPU/vector state (NT_X86_XSTATE, the XSAVE layout of the running CPU).
#pragma once

#include <sys/types.h>
#include <sys/user.h>

#include <cstdint>
#include <string>

namespace ckpt::task {

using Regs = user_regs_struct;

Regs get_regs(pid_t tid);
void set_regs(pid_t tid, const Regs& regs);

// Size of the XSAVE area for the features enabled on this CPU (CPUID leaf 0xD, ECX=0, EBX).
size_t xstate_size();
// XCR0 of this host: which xsave features the kernel enabled (CPUID leaf 0xD EAX/EDX as a
// superset check; the authoritative bytes are in the xstate area's software-reserved words).
uint64_t xsave_features();
// Raw NT_X86_XSTATE bytes, as many as the kernel filled.
std::string get_xstate(pid_t tid);
void set_xstate(pid_t tid, const std::string& area);

// A thread's rseq registration (PTRACE_GET_RSEQ_CONFIGURATION); addr 0 when none.
struct RseqConfig {
  uint64_t addr = 0;
  uint32_t len = 0;
  uint32_t signature = 0;
};
RseqConfig get_rseq(pid_t tid);

// The kernel's syscall-restart codes (include/linux/errno.h; never seen by user space).
constexpr long kErestartSys = 512, kErestartNoIntr = 513, kErestartNoHand = 514,
               kErestartRestartBlock = 516;

enum class RestartPolicy {
  // The task's own restart_block is intact (same task, still alive): use restart_syscall.
  restart_block_valid,
  // A new task (restore): re-issue the interrupted syscall with its original arguments.
  reissue,
};

// A thread stopped inside a syscall shows orig_rax = nr and rax = -ERESTART*. The kernel only
// rewinds it while delivering a signal; when we resume it from a syscall-exit-stop instead
// (after injected calls, or on restore) it would return -512 to user space. This applies the
// rewind the kernel would have done (arch/x86/kernel/signal.c) and clears orig_rax so the
// kernel does not apply it twice. Returns true if the registers were changed.
bool apply_syscall_restart(Regs& regs, RestartPolicy policy);

}  // namespace ckpt::task
