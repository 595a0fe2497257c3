// The code sequences a guarded injection returns through (runtime/task/gadgets.h), found in
// byte strings taken from real code: this kernel's vdso, glibc's __restore_rt and wrappers.
#include <gtest/gtest.h>

#include <vector>

#include "runtime/task/gadgets.h"

namespace ckpt::task {
namespace {

using Bytes = std::vector<unsigned char>;

TEST(Gadgets, SyscallFollowedByRetIsFound) {
  // glibc getpid: mov $0x27,%eax; syscall; ret
  Bytes code = {0xb8, 0x27, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xc3};
  EXPECT_EQ(find_syscall_ret(code), 5u);
}

TEST(Gadgets, RegisterClearingBeforeRetIsAllowed) {
  // 6.18 vdso getcpu fallback: syscall; xor %edx,%edx; xor %ecx,%ecx; xor %esi,%esi;
  // xor %edi,%edi; xor %r11d,%r11d; ret
  Bytes code = {0x90, 0x0f, 0x05, 0x31, 0xd2, 0x31, 0xc9, 0x31,
                0xf6, 0x31, 0xff, 0x45, 0x31, 0xdb, 0xc3};
  EXPECT_EQ(find_syscall_ret(code), 1u);
}

TEST(Gadgets, AnythingTouchingMemoryOrTheStackPointerDisqualifies) {
  // syscall; leave; ...; ret  (leave rewrites rsp from rbp)
  EXPECT_FALSE(find_syscall_ret(Bytes{0x0f, 0x05, 0xc9, 0x31, 0xd2, 0xc3}));
  // syscall; mov %rax,(%rdi); ret  (a store)
  EXPECT_FALSE(find_syscall_ret(Bytes{0x0f, 0x05, 0x48, 0x89, 0x07, 0xc3}));
  // syscall; xor %rsp,%rsp; ret
  EXPECT_FALSE(find_syscall_ret(Bytes{0x0f, 0x05, 0x48, 0x31, 0xe4, 0xc3}));
  // syscall; cmp $-4095,%rax; jae ...; ret  (glibc's error path writes errno)
  EXPECT_FALSE(
      find_syscall_ret(Bytes{0x0f, 0x05, 0x48, 0x3d, 0x01, 0xf0, 0xff, 0xff, 0x73, 0x01, 0xc3}));
  // A register-only instruction on r12 (REX.B extends rm 4 to 12) is fine.
  EXPECT_EQ(find_syscall_ret(Bytes{0x0f, 0x05, 0x4d, 0x31, 0xe4, 0xc3}), 0u);
}

TEST(Gadgets, SequenceCutShortIsNotAGadget) {
  EXPECT_FALSE(find_syscall_ret(Bytes{0x0f, 0x05, 0x31}));
  EXPECT_FALSE(find_syscall_ret(Bytes{0x0f, 0x05}));
  EXPECT_FALSE(find_syscall_ret(Bytes{}));
}

TEST(Gadgets, SigreturnInBothEncodings) {
  // glibc __restore_rt: mov $0xf,%rax; syscall
  Bytes glibc = {0x90, 0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};
  EXPECT_EQ(find_sigreturn(glibc), 1u);
  // musl: mov $15,%eax; syscall
  Bytes musl = {0xcc, 0xcc, 0xb8, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};
  EXPECT_EQ(find_sigreturn(musl), 2u);
  // rt_sigaction (13) is not it
  EXPECT_FALSE(find_sigreturn(Bytes{0xb8, 0x0d, 0x00, 0x00, 0x00, 0x0f, 0x05}));
}

}  // namespace
}  // namespace ckpt::task
