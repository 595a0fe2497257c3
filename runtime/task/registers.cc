#include "runtime/task/registers.h"

#include <cpuid.h>
#include <elf.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "common/error.h"

namespace ckpt::task {

namespace {
std::string who(pid_t tid) {
  return "task " + std::to_string(tid);
}
}  // namespace

Regs get_regs(pid_t tid) {
  Regs regs{};
  iovec iov{&regs, sizeof(regs)};
  if (ptrace(PTRACE_GETREGSET, tid, reinterpret_cast<void*>(NT_PRSTATUS), &iov) != 0) {
    throw sys_error("ptrace getregs " + who(tid));
  }
  return regs;
}

void set_regs(pid_t tid, const Regs& regs) {
  Regs copy = regs;
  iovec iov{&copy, sizeof(copy)};
  if (ptrace(PTRACE_SETREGSET, tid, reinterpret_cast<void*>(NT_PRSTATUS), &iov) != 0) {
    throw sys_error("ptrace setregs " + who(tid));
  }
}

size_t xstate_size() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_count(0xd, 0, &eax, &ebx, &ecx, &edx) == 0 || ebx == 0) return 4096;
  return ebx;
}

uint64_t xsave_features() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0 || (ecx & bit_OSXSAVE) == 0) return 0;
  unsigned lo = 0, hi = 0;
  // XGETBV(0) is allowed in user mode once the OS set CR4.OSXSAVE.
  asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

std::string get_xstate(pid_t tid) {
  std::string area(xstate_size(), '\0');
  iovec iov{area.data(), area.size()};
  if (ptrace(PTRACE_GETREGSET, tid, reinterpret_cast<void*>(NT_X86_XSTATE), &iov) != 0) {
    throw sys_error("ptrace get xstate " + who(tid));
  }
  area.resize(iov.iov_len);  // the kernel says how much it filled
  return area;
}

void set_xstate(pid_t tid, const std::string& area) {
  std::string copy = area;
  iovec iov{copy.data(), copy.size()};
  if (ptrace(PTRACE_SETREGSET, tid, reinterpret_cast<void*>(NT_X86_XSTATE), &iov) != 0) {
    throw Error("ptrace set xstate (" + std::to_string(area.size()) + " bytes) " + who(tid), errno,
                "the xsave area must come from a CPU with the same or fewer xsave features");
  }
}

RseqConfig get_rseq(pid_t tid) {
  // struct ptrace_rseq_configuration (include/uapi/linux/ptrace.h, kernel 5.13+).
  struct {
    uint64_t rseq_abi_pointer;
    uint32_t rseq_abi_size;
    uint32_t signature;
    uint32_t flags;
    uint32_t pad;
  } conf{};
  constexpr int kGetRseqConfiguration = 0x420f;
  if (ptrace(static_cast<__ptrace_request>(kGetRseqConfiguration), tid,
             reinterpret_cast<void*>(sizeof(conf)), &conf) < 0) {
    if (errno == EIO || errno == EINVAL) return {};  // kernel without the request: no rseq
    throw sys_error("ptrace get rseq configuration " + who(tid));
  }
  return {conf.rseq_abi_pointer, conf.rseq_abi_size, conf.signature};
}

bool apply_syscall_restart(Regs& regs, RestartPolicy policy) {
  if (static_cast<long>(regs.orig_rax) < 0) return false;
  long rax = static_cast<long>(regs.rax);
  bool changed = false;
  switch (-rax) {
    case kErestartSys:
    case kErestartNoIntr:
    case kErestartNoHand:
      // No handler runs on this resume, so even ERESTARTSYS/NOHAND restart (as with SA_RESTART).
      regs.rax = regs.orig_rax;
      regs.rip -= 2;  // both `syscall` and `int $0x80` are two bytes long
      changed = true;
      break;
    case kErestartRestartBlock:
      regs.rax = policy == RestartPolicy::restart_block_valid ? SYS_restart_syscall : regs.orig_rax;
      regs.rip -= 2;
      changed = true;
      break;
    default:
      break;
  }
  regs.orig_rax = static_cast<unsigned long long>(-1);
  return changed;
}

}  // namespace ckpt::task
