// The task layer against a real forked child: seize, interrupt inside a blocking read, inject
// syscalls, read and write its memory, round-trip its registers, detach, and check the child
// carries on correctly (its interrupted read restarts and sees what we wrote).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "common/error.h"
#include "common/unique_fd.h"
#include "harness.h"
#include "runtime/task/maps.h"
#include "runtime/task/memory.h"
#include "runtime/task/ptrace_attachment.h"
#include "runtime/task/registers.h"
#include "runtime/task/remote_syscall.h"

namespace ckpt::task {
namespace {

// Shared with the child by fork: same address in both.
volatile uint64_t g_value = 1111;
volatile char g_unreadable_marker[8192] __attribute__((aligned(4096)));

// A forked child that answers every byte on `cmd` with g_value on `reply`; killed and reaped
// on destruction whatever the test did.
class EchoChild {
 public:
  EchoChild() {
    int cmd[2], reply[2];
    if (pipe2(cmd, O_CLOEXEC) != 0 || pipe2(reply, O_CLOEXEC) != 0) throw sys_error("pipe");
    pid_ = fork();
    if (pid_ < 0) throw sys_error("fork");
    if (pid_ == 0) {
      close(cmd[1]);
      close(reply[0]);
      for (;;) {
        char c;
        ssize_t n = read(cmd[0], &c, 1);
        if (n != 1) _exit(n == 0 ? 0 : 3);  // a botched restart shows up as an error here
        uint64_t v = g_value;
        if (write(reply[1], &v, sizeof(v)) != sizeof(v)) _exit(4);
      }
    }
    close(cmd[0]);
    close(reply[1]);
    cmd_.reset(cmd[1]);
    reply_.reset(reply[0]);
  }
  ~EchoChild() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, __WALL);
  }
  pid_t pid() const { return pid_; }
  uint64_t ask() {
    char c = 'x';
    if (write(cmd_.get(), &c, 1) != 1) throw sys_error("write cmd");
    uint64_t v = 0;
    if (read(reply_.get(), &v, sizeof(v)) != sizeof(v)) throw sys_error("read reply");
    return v;
  }
  // Waits until the child is blocked in read(2) on its command pipe.
  bool wait_blocked() {
    return test::wait_until([&] {
      std::string stat = test::slurp("/proc/" + std::to_string(pid_) + "/stat");
      size_t p = stat.rfind(')');
      return p != std::string::npos && stat.size() > p + 2 && stat[p + 2] == 'S';
    });
  }

 private:
  pid_t pid_ = -1;
  UniqueFd cmd_, reply_;
};

TEST(TaskPtrace, RemoteSyscallsMemoryAndRegistersThenChildContinues) {
  CKPT_REQUIRE_ROOT();
  EchoChild child;
  ASSERT_EQ(child.ask(), 1111u);
  ASSERT_TRUE(child.wait_blocked());
  {
    SeizedTask task(child.pid(), SeizeOptions{.exit_kill = true});
    Stop stop = task.interrupt();
    EXPECT_EQ(stop.kind, Stop::interrupt);
    Regs before = get_regs(child.pid());
    EXPECT_EQ(static_cast<long>(before.orig_rax), SYS_read);  // stopped inside read(2)
    EXPECT_EQ(-static_cast<long>(before.rax), kErestartSys);

    {
      RemoteSyscaller remote(task);
      EXPECT_EQ(remote.call(SYS_getpid), child.pid());
      long addr = remote.check("mmap", SYS_mmap, 0, 2 * 4096, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, static_cast<uint64_t>(-1), 0);
      TaskMemory mem(child.pid());
      char out[64] = "written by the tracer";
      mem.write(addr + 4096 - 8, out, sizeof(out));  // straddles the two pages
      char in[64] = {};
      mem.read(addr + 4096 - 8, in, sizeof(in));
      EXPECT_STREQ(in, out);
      EXPECT_EQ(remote.call(SYS_munmap, addr, 2 * 4096), 0);
      EXPECT_EQ(remote.call(SYS_close, 999999), -EBADF);
      EXPECT_THROW(remote.check("close", SYS_close, 999999), Error);

      // A PROT_NONE range is refused by process_vm_writev and goes through /proc/PID/mem.
      uint64_t marker = reinterpret_cast<uint64_t>(&g_unreadable_marker[0]);
      ASSERT_EQ(remote.call(SYS_mprotect, marker, 4096, PROT_NONE), 0);
      mem.write(marker, "hidden", 7);
      char hidden[7] = {};
      mem.read(marker, hidden, 7);
      EXPECT_STREQ(hidden, "hidden");
      ASSERT_EQ(remote.call(SYS_mprotect, marker, 4096, PROT_READ | PROT_WRITE), 0);

      uint64_t value = 2222;
      mem.write(reinterpret_cast<uint64_t>(&g_value), &value, sizeof(value));
      // Batch read across many small ranges (more than one iovec).
      std::vector<uint64_t> got(3);
      mem.read_batch({{reinterpret_cast<uint64_t>(&g_value), &got[0], 8},
                      {reinterpret_cast<uint64_t>(&g_value), &got[1], 8},
                      {marker, &got[2], 7}});
      EXPECT_EQ(got[0], 2222u);
      EXPECT_EQ(got[1], 2222u);
    }  // the syscaller puts the registers back (with the read restart)

    Regs after = get_regs(child.pid());
    EXPECT_EQ(after.rip, before.rip - 2);
    EXPECT_EQ(after.rax, static_cast<unsigned long long>(SYS_read));

    std::string xstate = get_xstate(child.pid());
    EXPECT_GE(xstate.size(), 576u);  // legacy area + xsave header at least
    set_xstate(child.pid(), xstate);
    EXPECT_EQ(get_xstate(child.pid()), xstate);
    Regs round = get_regs(child.pid());
    set_regs(child.pid(), round);
    EXPECT_EQ(get_regs(child.pid()).rip, round.rip);
    EXPECT_EQ(get_regs(child.pid()).fs_base, before.fs_base);
  }  // detach
  EXPECT_EQ(child.ask(), 2222u);
  EXPECT_EQ(child.ask(), 2222u);
}

TEST(TaskPtrace, GroupStoppedTaskStaysStoppedAfterDetach) {
  CKPT_REQUIRE_ROOT();
  EchoChild child;
  ASSERT_EQ(kill(child.pid(), SIGSTOP), 0);
  ASSERT_TRUE(test::wait_until([&] {
    std::string stat = test::slurp("/proc/" + std::to_string(child.pid()) + "/stat");
    size_t p = stat.rfind(')');
    return p != std::string::npos && stat[p + 2] == 'T';
  }));
  {
    SeizedTask task(child.pid(), {});
    Stop stop = task.interrupt();
    EXPECT_EQ(stop.kind, Stop::group_stop);
    RemoteSyscaller remote(task);
    EXPECT_EQ(remote.call(SYS_getppid), getpid());
  }
  // Detaching lets the task run just long enough to re-enter the group-stop (the kernel's
  // JOBCTL_STOP_PENDING), so the state may show 'R' for a moment.
  EXPECT_TRUE(test::wait_until([&] {
    std::string stat = test::slurp("/proc/" + std::to_string(child.pid()) + "/stat");
    size_t p = stat.rfind(')');
    return p != std::string::npos && stat[p + 2] == 'T';
  }));
  ASSERT_EQ(kill(child.pid(), SIGCONT), 0);
  EXPECT_EQ(child.ask(), 1111u);
}

TEST(TaskPtrace, SeizeOfMissingTaskNamesIt) {
  CKPT_REQUIRE_ROOT();
  try {
    SeizedTask task(0x3fffff0, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(0x3fffff0)), std::string::npos);
  }
}

TEST(TaskPtrace, FindsSyscallInstructionAndParsesOwnMaps) {
  uint64_t insn = find_syscall_insn(getpid());
  unsigned char* p = reinterpret_cast<unsigned char*>(insn);
  EXPECT_EQ(p[0], 0x0f);
  EXPECT_EQ(p[1], 0x05);
  auto maps = read_maps(getpid());
  bool found = false;
  for (const auto& m : maps) found |= m.start <= insn && insn < m.end && (m.prot & PROT_EXEC);
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace ckpt::task
