// The signal frame a guarded injection leaves below a thread's stack (runtime/task/sigframe.h):
// placement below the red zone and inside the stack mapping, the kernel ABI offsets rt_sigreturn
// reads, and the xsave area's magic words.
#include <gtest/gtest.h>

#include <cstring>

#include "runtime/task/sigframe.h"

namespace ckpt::task {
namespace {

constexpr uint64_t kRsp = 0x7ffd'0000'1238;
constexpr size_t kXstate = 2432;  // AVX-512 xsave area

TEST(SigframePlan, StaysBelowTheRedZoneAndAligned) {
  auto plan = plan_frame(kRsp, kXstate, 512, 0x7ffd'0000'0000);
  ASSERT_TRUE(plan);
  EXPECT_LE(plan->top, kRsp - kRedZone);
  EXPECT_EQ(plan->fpstate % 64, 0u) << "XRSTOR faults on an unaligned area";
  EXPECT_GE(plan->top, plan->fpstate + kXstate + 4);
  EXPECT_GE(plan->fpstate, plan->frame + sizeof(KernelRtSigframe));
  EXPECT_EQ(plan->frame % 16, 0u);
  EXPECT_EQ(plan->scratch + plan->scratch_size, plan->frame);
  EXPECT_EQ(plan->low, plan->scratch);
  EXPECT_GE(plan->scratch_size, 512u);
}

TEST(SigframePlan, RefusedWhenTheStackMappingIsTooSmall) {
  // 2 KiB of stack below rsp cannot hold 2.4 KiB of xsave area.
  EXPECT_FALSE(plan_frame(kRsp, kXstate, 512, kRsp - 2048));
  EXPECT_TRUE(plan_frame(kRsp, kXstate, 512, kRsp - 8192));
}

TEST(SigframeBuild, RtSigreturnFindsRegistersMaskAndXstate) {
  auto plan = plan_frame(kRsp, kXstate, 256, 0);
  ASSERT_TRUE(plan);
  Regs regs{};
  regs.rip = 0x401000;
  regs.rsp = kRsp;
  regs.rax = 0xdead;
  regs.r15 = 0x1515;
  regs.eflags = 0x246;
  regs.cs = 0x33;
  regs.ss = 0x2b;
  std::string xstate(kXstate, '\x5a');
  std::string bytes = build_frame(*plan, regs, xstate, 0xe7, 0x4000, 0x7f00'0000'1234);
  ASSERT_EQ(bytes.size(), plan->top - plan->frame);

  KernelRtSigframe frame;
  std::memcpy(&frame, bytes.data(), sizeof frame);
  EXPECT_EQ(frame.pretcode, 0x7f00'0000'1234u);
  EXPECT_EQ(frame.uc.mcontext.rip, 0x401000u);
  EXPECT_EQ(frame.uc.mcontext.rsp, kRsp);
  EXPECT_EQ(frame.uc.mcontext.rax, 0xdeadu);
  EXPECT_EQ(frame.uc.mcontext.r15, 0x1515u);
  EXPECT_EQ(frame.uc.mcontext.cs, 0x33);
  EXPECT_EQ(frame.uc.mcontext.ss, 0x2b);
  EXPECT_EQ(frame.uc.mcontext.fpstate, plan->fpstate);
  EXPECT_EQ(frame.uc.sigmask, 0x4000u);
  EXPECT_EQ(frame.uc.flags, kUcFpXstate | kUcSigcontextSs | kUcStrictRestoreSs);
  EXPECT_EQ(frame.uc.stack.flags, kKeepAltstack) << "rt_sigreturn must leave the altstack alone";
  // The kernel reads uc_sigmask at offset 8 + 296 of the frame (signal_64.c).
  EXPECT_EQ(offsetof(KernelRtSigframe, uc) + offsetof(KernelUcontext, sigmask), 304u);

  const char* area = bytes.data() + (plan->fpstate - plan->frame);
  uint32_t magic1, ext, size, magic2;
  uint64_t features;
  std::memcpy(&magic1, area + kFxSwBytesOffset, 4);
  std::memcpy(&ext, area + kFxSwBytesOffset + 4, 4);
  std::memcpy(&features, area + kFxSwBytesOffset + 8, 8);
  std::memcpy(&size, area + kFxSwBytesOffset + 16, 4);
  std::memcpy(&magic2, area + kXstate, 4);
  EXPECT_EQ(magic1, kFpXstateMagic1);
  EXPECT_EQ(size, kXstate);
  EXPECT_EQ(ext, kXstate + 4);
  EXPECT_EQ(features, 0xe7u);
  EXPECT_EQ(magic2, kFpXstateMagic2);
  EXPECT_EQ(area[0], '\x5a') << "the xsave bytes themselves are copied";
}

}  // namespace
}  // namespace ckpt::task
