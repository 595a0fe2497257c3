#include <gtest/gtest.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "runtime/task/ptrace_attachment.h"
#include "runtime/task/registers.h"

namespace ckpt::task {
namespace {

Regs interrupted(long nr, long rax) {
  Regs r{};
  r.orig_rax = nr;
  r.rax = static_cast<unsigned long long>(rax);
  r.rip = 0x401002;
  return r;
}

TEST(TaskRegisters, RestartableCodesRewindToTheSyscall) {
  for (long code : {kErestartSys, kErestartNoIntr, kErestartNoHand}) {
    Regs r = interrupted(SYS_read, -code);
    EXPECT_TRUE(apply_syscall_restart(r, RestartPolicy::reissue));
    EXPECT_EQ(r.rax, static_cast<unsigned long long>(SYS_read));
    EXPECT_EQ(r.rip, 0x401000u);
    EXPECT_EQ(static_cast<long>(r.orig_rax), -1);
  }
}

TEST(TaskRegisters, RestartBlockUsesRestartSyscallOnlyWhenTheBlockIsValid) {
  Regs live = interrupted(SYS_nanosleep, -kErestartRestartBlock);
  EXPECT_TRUE(apply_syscall_restart(live, RestartPolicy::restart_block_valid));
  EXPECT_EQ(live.rax, static_cast<unsigned long long>(SYS_restart_syscall));
  EXPECT_EQ(live.rip, 0x401000u);

  Regs fresh = interrupted(SYS_nanosleep, -kErestartRestartBlock);
  EXPECT_TRUE(apply_syscall_restart(fresh, RestartPolicy::reissue));
  EXPECT_EQ(fresh.rax, static_cast<unsigned long long>(SYS_nanosleep));
}

TEST(TaskRegisters, FinishedSyscallsAndUserCodeAreLeftAlone) {
  Regs done = interrupted(SYS_read, -EINTR);
  EXPECT_FALSE(apply_syscall_restart(done, RestartPolicy::reissue));
  EXPECT_EQ(static_cast<long>(done.rax), -EINTR);
  EXPECT_EQ(done.rip, 0x401002u);

  Regs user = interrupted(-1, -kErestartSys);  // not in a syscall: rax is just a value
  EXPECT_FALSE(apply_syscall_restart(user, RestartPolicy::reissue));
  EXPECT_EQ(user.rip, 0x401002u);
}

TEST(TaskStop, DecodesEachKindOfStop) {
  auto status = [](int sig, int event) { return 0x7f | (sig << 8) | (event << 16); };
  EXPECT_EQ(decode_stop(status(SIGTRAP | 0x80, 0)).kind, Stop::syscall);
  EXPECT_EQ(decode_stop(status(SIGTRAP, PTRACE_EVENT_STOP)).kind, Stop::interrupt);
  Stop group = decode_stop(status(SIGSTOP, PTRACE_EVENT_STOP));
  EXPECT_EQ(group.kind, Stop::group_stop);
  EXPECT_EQ(group.signal, SIGSTOP);
  Stop clone = decode_stop(status(SIGTRAP, PTRACE_EVENT_CLONE));
  EXPECT_EQ(clone.kind, Stop::ptrace_event);
  EXPECT_EQ(clone.event, PTRACE_EVENT_CLONE);
  Stop sig = decode_stop(status(SIGUSR1, 0));
  EXPECT_EQ(sig.kind, Stop::signal_delivery);
  EXPECT_EQ(sig.signal, SIGUSR1);
}

}  // namespace
}  // namespace ckpt::task
