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

void RemoteSyscaller::run_to_syscall_stop() {
  task_.resume(PTRACE_SYSCALL, 0);
  for (;;) {
    Stop s = task_.wait_stop();
    if (s.kind == Stop::syscall) return;
    if (s.kind == Stop::signal_delivery) task_.defer_current_signal();
    // Interrupt, group-stop and event stops: just carry on to the syscall stop.
    task_.resume(PTRACE_SYSCALL, 0);
  }
}

long RemoteSyscaller::call(long nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5,
                           uint64_t a6) {
  pid_t tid = task_.tid();
  if (!task_.stopped()) throw Error("remote syscall: " + who(tid) + " is not stopped");
  Regs regs = saved_;
  regs.rip = insn_;
  regs.rax = nr;
  regs.rdi = a1;
  regs.rsi = a2;
  regs.rdx = a3;
  regs.r10 = a4;
  regs.r8 = a5;
  regs.r9 = a6;
  // orig_rax = -1 keeps the kernel from treating our new registers as an interrupted syscall
  // to restart when the task leaves a stop that happened inside one.
  regs.orig_rax = static_cast<unsigned long long>(-1);
  set_regs(tid, regs);
  restored_ = false;

  run_to_syscall_stop();  // entry
  Regs entry = get_regs(tid);
  if (static_cast<long>(entry.orig_rax) != nr) {
    throw Error("remote syscall " + std::to_string(nr) + " in " + who(tid) +
                ": stopped at entry of syscall " + std::to_string(entry.orig_rax));
  }
  run_to_syscall_stop();  // exit
  return static_cast<long>(get_regs(tid).rax);
}

long RemoteSyscaller::check(const char* name, long nr, uint64_t a1, uint64_t a2, uint64_t a3,
                            uint64_t a4, uint64_t a5, uint64_t a6) {
  long r = call(nr, a1, a2, a3, a4, a5, a6);
  if (r < 0 && r > -4096) {
    throw Error(std::string("remote ") + name + " in " + who(task_.tid()), static_cast<int>(-r));
  }
  return r;
}

}  // namespace ckpt::task
