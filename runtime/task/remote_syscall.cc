#include "runtime/task/remote_syscall.h"

#include <sys/mman.h>
#include <sys/ptrace.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/error.h"
#include "runtime/task/maps.h"
#include "runtime/task/memory.h"

namespace ckpt::task {

namespace {

std::string who(pid_t tid) {
  return "task " + std::to_string(tid);
}

// Scans at most the first 64 KiB of a mapping for the two bytes of `syscall`.
uint64_t scan_for_syscall(TaskMemory& mem, const MapEntry& m) {
  size_t len = std::min<uint64_t>(m.size(), 64 * 1024);
  std::vector<unsigned char> bytes(len);
  try {
    mem.read(m.start, bytes.data(), len);
  } catch (const Error&) {
    return 0;
  }
  for (size_t i = 0; i + 1 < len; ++i) {
    if (bytes[i] == 0x0f && bytes[i + 1] == 0x05) return m.start + i;
  }
  return 0;
}

}  // namespace

uint64_t find_syscall_insn(pid_t pid) {
  std::vector<MapEntry> maps = read_maps(pid);
  TaskMemory mem(pid);
  // The vdso's fallback paths always contain `syscall`; prefer it over the program's text.
  std::stable_partition(maps.begin(), maps.end(),
                        [](const MapEntry& m) { return m.name == "[vdso]"; });
  for (const MapEntry& m : maps) {
    if ((m.prot & PROT_EXEC) == 0 || m.name == "[vsyscall]") continue;
    if (uint64_t addr = scan_for_syscall(mem, m)) return addr;
  }
  throw Error("no syscall instruction found in the executable mappings of " + who(pid));
}

RemoteSyscaller::RemoteSyscaller(SeizedTask& task)
    : RemoteSyscaller(task, find_syscall_insn(task.tid())) {}

RemoteSyscaller::RemoteSyscaller(SeizedTask& task, uint64_t syscall_insn)
    : task_(task), insn_(syscall_insn) {
  if (!task_.stopped()) throw Error("remote syscall: " + who(task_.tid()) + " is not stopped");
  saved_ = get_regs(task_.tid());
}

RemoteSyscaller::~RemoteSyscaller() {
  if (restored_ || task_.tid() < 0) return;
  try {
    restore();
  } catch (...) {
    // The task is dead or gone; nothing left to put back.
  }
}

void RemoteSyscaller::restore(RestartPolicy policy) {
  Regs regs = saved_;
  apply_syscall_restart(regs, policy);
  set_regs(task_.tid(), regs);
  restored_ = true;
}

long RemoteSyscaller::invoke(long nr, const std::array<uint64_t, 6>& args) {
  if (!task_.stopped()) throw Error("remote syscall: " + who(task_.tid()) + " is not stopped");
  restored_ = false;
  return run_syscall_at(task_, saved_, insn_, nr, args);
}

void run_to_syscall_stop(SeizedTask& task) {
  task.resume(PTRACE_SYSCALL, 0);
  // A signal taken off is queued again (defer_current_signal), so an unblocked one would stop
  // the task again at once: callers block signals while they inject; this only guards the loop.
  int signal_stops = 0;
  for (;;) {
    Stop s = task.wait_stop();
    if (s.kind == Stop::syscall) return;
    if (s.kind == Stop::signal_delivery) {
      if (++signal_stops > 16)
        throw Error("signal " + std::to_string(s.signal) + " keeps stopping " + who(task.tid()) +
                    " before its injected syscall; it should be blocked while injecting");
      task.defer_current_signal();
    }
    // Interrupt, group-stop and event stops: just carry on to the syscall stop.
    task.resume(PTRACE_SYSCALL, 0);
  }
}

long run_syscall_at(SeizedTask& task, const Regs& base, uint64_t insn, long nr,
                    const std::array<uint64_t, 6>& args,
                    const std::function<void(SyscallPhase)>& on_phase) {
  auto phase = [&](SyscallPhase p) {
    if (on_phase) on_phase(p);
  };
  pid_t tid = task.tid();
  Regs regs = base;
  regs.rip = insn;
  regs.rax = static_cast<unsigned long long>(nr);
  regs.rdi = args[0];
  regs.rsi = args[1];
  regs.rdx = args[2];
  regs.r10 = args[3];
  regs.r8 = args[4];
  regs.r9 = args[5];
  // orig_rax = -1 keeps the kernel from treating our new registers as an interrupted syscall
  // to restart when the task leaves a stop that happened inside one.
  regs.orig_rax = static_cast<unsigned long long>(-1);
  set_regs(tid, regs);
  phase(SyscallPhase::loaded);

  run_to_syscall_stop(task);  // entry
  Regs entry = get_regs(tid);
  if (static_cast<long>(entry.orig_rax) != nr) {
    throw Error("remote syscall " + std::to_string(nr) + " in " + who(tid) +
                ": stopped at entry of syscall " + std::to_string(entry.orig_rax));
  }
  phase(SyscallPhase::entered);
  run_to_syscall_stop(task);  // exit
  phase(SyscallPhase::returned);
  return static_cast<long>(get_regs(tid).rax);
}

long Syscaller::check(const char* name, long nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                      uint64_t a5, uint64_t a6) {
  long r = call(nr, a1, a2, a3, a4, a5, a6);
  if (r < 0 && r > -4096) {
    throw Error(std::string("remote ") + name + " in " + who(tid()), static_cast<int>(-r));
  }
  return r;
}

}  // namespace ckpt::task
