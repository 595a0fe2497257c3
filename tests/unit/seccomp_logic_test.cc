// The pure parts of seccomp checkpoint/restore: which filter flags are kept, spotting a
// user-notifier program, parsing /proc status, the checks a restore makes on an image's
// filters, and the chain prefix all threads share.
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/checkpoint/seccomp_dump.h"
#include "runtime/restore/restore_context.h"

namespace ckpt {
namespace {

std::string program(const std::vector<sock_filter>& insns) {
  return std::string(reinterpret_cast<const char*>(insns.data()),
                     insns.size() * sizeof(sock_filter));
}

const std::string kAllow = program({BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)});
const std::string kDenyErrno = program({
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 110, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 77),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
});

model::Thread filtered(pid_t tid, std::vector<std::string> programs,
                       std::vector<uint64_t> flags = {}) {
  model::Thread t;
  t.tid = tid;
  t.seccomp_mode = SECCOMP_MODE_FILTER;
  if (flags.empty()) flags.assign(programs.size(), 0);
  t.seccomp_filters = std::move(programs);
  t.seccomp_filter_flags = std::move(flags);
  return t;
}

std::string error_of(const model::Thread& t, size_t max_bytes = 1 << 20) {
  try {
    restore::check_seccomp(t, max_bytes);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(SeccompFlags, KeepsOnlyWhatAnInstallTakesAgain) {
  using checkpoint::restorable_filter_flags;
  EXPECT_EQ(restorable_filter_flags(0), 0u);
  EXPECT_EQ(restorable_filter_flags(SECCOMP_FILTER_FLAG_LOG), SECCOMP_FILTER_FLAG_LOG);
  EXPECT_EQ(restorable_filter_flags(SECCOMP_FILTER_FLAG_SPEC_ALLOW),
            SECCOMP_FILTER_FLAG_SPEC_ALLOW);
  EXPECT_EQ(restorable_filter_flags(SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG |
                                    SECCOMP_FILTER_FLAG_NEW_LISTENER |
                                    SECCOMP_FILTER_FLAG_TSYNC_ESRCH | (1ull << 40)),
            SECCOMP_FILTER_FLAG_LOG);
}

TEST(SeccompUserNotif, FoundOnlyInReturnInstructions) {
  using checkpoint::returns_user_notif;
  EXPECT_FALSE(returns_user_notif(kAllow));
  EXPECT_FALSE(returns_user_notif(kDenyErrno));
  EXPECT_TRUE(returns_user_notif(program({
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 102, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  })));
  // The action's low 16 bits are data: still a notifier.
  EXPECT_TRUE(returns_user_notif(program({BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF | 5)})));
  // The same constant as a comparison operand is not a return.
  EXPECT_FALSE(returns_user_notif(program({
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_RET_USER_NOTIF, 0, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  })));
  EXPECT_FALSE(returns_user_notif(""));
}

TEST(SeccompStatus, ParsesModeAndFilterCount) {
  auto s = checkpoint::parse_seccomp_status(
      "Name:\tworker\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t3\nSpeculation_Store_Bypass:"
      "\tx\n");
  EXPECT_EQ(s.mode, 2);
  EXPECT_EQ(s.filters, 3);
  auto old_kernel = checkpoint::parse_seccomp_status("Name:\tx\nSeccomp:\t0\n");
  EXPECT_EQ(old_kernel.mode, 0);
  EXPECT_EQ(old_kernel.filters, -1);
  EXPECT_THROW(checkpoint::parse_seccomp_status("Name:\tx\n"), Error);
}

TEST(SeccompRestoreCheck, AcceptsAValidChain) {
  EXPECT_EQ(error_of(filtered(7, {kAllow, kDenyErrno}, {0, SECCOMP_FILTER_FLAG_LOG})), "");
  model::Thread none;
  EXPECT_EQ(error_of(none), "");
  // The largest program the kernel takes: BPF_MAXINSNS instructions.
  std::string biggest = program(std::vector<sock_filter>(BPF_MAXINSNS, sock_filter{}));
  EXPECT_EQ(error_of(filtered(7, {biggest}), biggest.size()), "");
}

TEST(SeccompRestoreCheck, RefusesWhatCannotBeInstalled) {
  EXPECT_NE(
      error_of(filtered(7, {kAllow + "xyz"})).find("thread 7: seccomp filter 1 of 1 has 11 bytes"),
      std::string::npos);
  EXPECT_NE(error_of(filtered(7, {""})), "");
  std::string too_long = program(std::vector<sock_filter>(BPF_MAXINSNS + 1, sock_filter{}));
  EXPECT_NE(error_of(filtered(7, {kAllow, too_long})).find("filter 2 of 2"), std::string::npos);
  // Fits the kernel but not the scratch area it is copied through.
  EXPECT_NE(error_of(filtered(7, {kDenyErrno}), kDenyErrno.size() - 8), "");
  EXPECT_NE(error_of(filtered(7, {kAllow}, {SECCOMP_FILTER_FLAG_NEW_LISTENER})).find("flags 8"),
            std::string::npos);
  EXPECT_NE(error_of(filtered(7, {kAllow}, {SECCOMP_FILTER_FLAG_TSYNC})), "");
}

TEST(SeccompRestoreCheck, RefusesInconsistentModes) {
  model::Thread strict;
  strict.tid = 9;
  strict.seccomp_mode = SECCOMP_MODE_STRICT;
  EXPECT_NE(error_of(strict).find("thread 9 is in seccomp strict mode"), std::string::npos);
  model::Thread empty = filtered(9, {});
  EXPECT_NE(error_of(empty).find("without filters"), std::string::npos);
  model::Thread disabled = filtered(9, {kAllow});
  disabled.seccomp_mode = SECCOMP_MODE_DISABLED;
  EXPECT_NE(error_of(disabled), "");
  model::Thread unknown = filtered(9, {kAllow});
  unknown.seccomp_mode = 5;
  EXPECT_NE(error_of(unknown).find("unknown seccomp mode 5"), std::string::npos);
  model::Thread mismatch = filtered(9, {kAllow, kAllow});
  mismatch.seccomp_filter_flags.pop_back();
  EXPECT_NE(error_of(mismatch).find("1 flag words"), std::string::npos);
}

TEST(SeccompSharedPrefix, IsWhatEveryThreadStartsWith) {
  model::Process p;
  p.threads.push_back(filtered(1, {kAllow, kDenyErrno}));
  EXPECT_EQ(restore::shared_seccomp_prefix(p), 0u) << "a lone thread installs its own chain";
  p.threads.push_back(filtered(2, {kAllow, kDenyErrno, kAllow}));
  EXPECT_EQ(restore::shared_seccomp_prefix(p), 2u);
  p.threads.push_back(filtered(3, {kAllow}));
  EXPECT_EQ(restore::shared_seccomp_prefix(p), 1u);
  p.threads.push_back(filtered(4, {kAllow}, {SECCOMP_FILTER_FLAG_LOG}));
  EXPECT_EQ(restore::shared_seccomp_prefix(p), 0u) << "same program, other flags: not shared";
  p.threads.pop_back();
  p.threads.push_back(model::Thread{});
  EXPECT_EQ(restore::shared_seccomp_prefix(p), 0u);
}

}  // namespace
}  // namespace ckpt
