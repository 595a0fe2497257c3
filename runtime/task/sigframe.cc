#include "runtime/task/sigframe.h"

#include <cstring>

#include "common/error.h"

namespace ckpt::task {

namespace {

constexpr uint64_t round_down(uint64_t value, uint64_t align) {
  return value & ~(align - 1);
}

// The xsave area as the signal frame carries it: NT_X86_XSTATE bytes are already in the
// standard (non-compacted) XSAVE layout; the frame adds the software words that tell
// check_xstate_in_sigframe() (arch/x86/kernel/fpu/signal.c) how much of it to trust, and the
// second magic word right after the area.
struct FxSwBytes {
  uint32_t magic1;
  uint32_t extended_size;
  uint64_t xfeatures;
  uint32_t xstate_size;
  uint32_t padding[7];
};
static_assert(sizeof(FxSwBytes) == 48);

}  // namespace

std::optional<FramePlan> plan_frame(uint64_t rsp, size_t xstate_bytes, size_t scratch_size,
                                    uint64_t stack_floor) {
  if (rsp < kRedZone || xstate_bytes < kFxSwBytesOffset + sizeof(FxSwBytes)) return std::nullopt;
  FramePlan plan;
  plan.top = round_down(rsp - kRedZone, 64);
  uint64_t area = xstate_bytes + sizeof(uint32_t);  // + FP_XSTATE_MAGIC2
  if (plan.top < area) return std::nullopt;
  plan.fpstate = round_down(plan.top - area, 64);
  if (plan.fpstate < sizeof(KernelRtSigframe)) return std::nullopt;
  plan.frame = round_down(plan.fpstate - sizeof(KernelRtSigframe), 16);
  plan.scratch_size = (scratch_size + 15) & ~uint64_t{15};
  if (plan.frame < plan.scratch_size) return std::nullopt;
  plan.scratch = plan.frame - plan.scratch_size;
  plan.low = plan.scratch;
  if (plan.low < stack_floor) return std::nullopt;
  return plan;
}

std::string build_frame(const FramePlan& plan, const Regs& resume, const std::string& xstate,
                        uint64_t xfeatures, uint64_t sigmask, uint64_t sigreturn_code) {
  if (plan.fpstate + xstate.size() + sizeof(uint32_t) > plan.top ||
      plan.frame + sizeof(KernelRtSigframe) > plan.fpstate)
    throw Error("signal frame: the xsave area does not fit the planned frame");
  std::string bytes(plan.top - plan.frame, '\0');
  KernelRtSigframe frame{};
  frame.pretcode = sigreturn_code;
  frame.uc.flags = kUcFpXstate | kUcSigcontextSs | kUcStrictRestoreSs;
  frame.uc.stack.flags = kKeepAltstack;
  KernelSigcontext& sc = frame.uc.mcontext;
  sc.r8 = resume.r8;
  sc.r9 = resume.r9;
  sc.r10 = resume.r10;
  sc.r11 = resume.r11;
  sc.r12 = resume.r12;
  sc.r13 = resume.r13;
  sc.r14 = resume.r14;
  sc.r15 = resume.r15;
  sc.rdi = resume.rdi;
  sc.rsi = resume.rsi;
  sc.rbp = resume.rbp;
  sc.rbx = resume.rbx;
  sc.rdx = resume.rdx;
  sc.rax = resume.rax;
  sc.rcx = resume.rcx;
  sc.rsp = resume.rsp;
  sc.rip = resume.rip;
  sc.eflags = resume.eflags;
  sc.cs = static_cast<uint16_t>(resume.cs);
  sc.ss = static_cast<uint16_t>(resume.ss);
  // fs/gs selectors and bases are not restored by a 64-bit rt_sigreturn, and never changed by
  // the injected calls.
  sc.fpstate = plan.fpstate;
  frame.uc.sigmask = sigmask;
  std::memcpy(bytes.data(), &frame, sizeof frame);

  char* area = bytes.data() + (plan.fpstate - plan.frame);
  std::memcpy(area, xstate.data(), xstate.size());
  FxSwBytes sw{};
  sw.magic1 = kFpXstateMagic1;
  sw.xstate_size = static_cast<uint32_t>(xstate.size());
  sw.extended_size = sw.xstate_size + sizeof(uint32_t);
  sw.xfeatures = xfeatures;
  std::memcpy(area + kFxSwBytesOffset, &sw, sizeof sw);
  uint32_t magic2 = kFpXstateMagic2;
  std::memcpy(area + xstate.size(), &magic2, sizeof magic2);
  return bytes;
}

}  // namespace ckpt::task
