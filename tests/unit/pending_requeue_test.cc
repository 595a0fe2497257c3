// A dump records signals a signal-delivery-stop took off a thread with their original siginfo,
// replacing the copies queued again at once (checkpoint/ptrace_queries.h with_original_siginfo).
#include <gtest/gtest.h>
#include <signal.h>

#include <cstring>

#include "runtime/checkpoint/ptrace_queries.h"

namespace ckpt::checkpoint {
namespace {

std::string raw(const siginfo_t& info) {
  return std::string(reinterpret_cast<const char*>(&info), sizeof info);
}

siginfo_t info(int signo, int code, int pid) {
  siginfo_t i;
  std::memset(&i, 0, sizeof i);
  i.si_signo = signo;
  i.si_code = code;
  i.si_pid = pid;
  return i;
}

TEST(PendingRequeue, TgkillCopyIsReplacedByTheKernelOriginal) {
  siginfo_t original = info(SIGCHLD, CLD_EXITED, 7);
  siginfo_t copy = info(SIGCHLD, SI_TKILL, 0);
  siginfo_t other = info(SIGUSR1, SI_QUEUE, 3);
  auto out = with_original_siginfo({raw(other), raw(copy)}, {original});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], raw(other));
  EXPECT_EQ(out[1], raw(original));
}

TEST(PendingRequeue, QueuedCopyOfAUserSignalIsTheOriginal) {
  siginfo_t original = info(SIGUSR2, SI_QUEUE, 9);
  auto out = with_original_siginfo({raw(original)}, {original});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], raw(original));
}

TEST(PendingRequeue, MissingCopyIsAppendedNeverLost) {
  siginfo_t original = info(SIGTERM, SI_USER, 4);
  auto out = with_original_siginfo({}, {original});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], raw(original));
}

TEST(PendingRequeue, EachCopyStandsForOneOriginal) {
  siginfo_t a = info(SIGCHLD, CLD_EXITED, 5), b = info(SIGCHLD, CLD_KILLED, 6);
  siginfo_t copy = info(SIGCHLD, SI_TKILL, 0);
  auto out = with_original_siginfo({raw(copy), raw(copy)}, {a, b});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], raw(a));
  EXPECT_EQ(out[1], raw(b));
}

}  // namespace
}  // namespace ckpt::checkpoint
