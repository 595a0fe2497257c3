// A loop that keeps its state only in registers, so a workload can see for itself whether its
// registers survived a checkpoint, a restore or a tracer's death: shared by the workloads and
// the task-layer tests.
#pragma once

#include <cstdint>

namespace workload {

constexpr uint64_t kSpinMagic = 0x5eed'f00d'cafe'0001;

// Spins `iterations` times keeping invariants in registers only: r13 == ~r12, r14 == kSpinMagic,
// and both 128-bit lanes of ymm1 equal to r12 (a lost or reset xstate, upper halves included,
// shows). Returns 0 when every check held, 1 otherwise. Needs AVX2.
inline int register_spin(long iterations) {
  long bad = 0;
  asm volatile(
      "xor %%r12, %%r12\n\t"
      "mov $-1, %%r13\n\t"
      "movabs %[magic], %%r14\n\t"
      "vpxor %%ymm1, %%ymm1, %%ymm1\n\t"
      "mov $1, %%rax\n\t"
      "vmovq %%rax, %%xmm4\n\t"
      "vpbroadcastq %%xmm4, %%ymm4\n\t"
      "1:\n\t"
      "inc %%r12\n\t"
      "dec %%r13\n\t"
      "vpaddq %%ymm4, %%ymm1, %%ymm1\n\t"
      "mov %%r12, %%rax\n\t"
      "not %%rax\n\t"
      "cmp %%rax, %%r13\n\t"
      "jne 2f\n\t"
      "movabs %[magic], %%rax\n\t"
      "cmp %%rax, %%r14\n\t"
      "jne 2f\n\t"
      "vmovq %%xmm1, %%rax\n\t"
      "cmp %%rax, %%r12\n\t"
      "jne 2f\n\t"
      "vextracti128 $1, %%ymm1, %%xmm5\n\t"
      "vmovq %%xmm5, %%rax\n\t"
      "cmp %%rax, %%r12\n\t"
      "jne 2f\n\t"
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      "jmp 3f\n\t"
      "2:\n\t"
      "mov $1, %[bad]\n\t"
      "3:\n\t"
      "vzeroupper\n\t"
      : [n] "+r"(iterations), [bad] "+r"(bad)
      : [magic] "i"(kSpinMagic)
      : "rax", "r12", "r13", "r14", "xmm1", "xmm4", "xmm5", "cc", "memory");
  return static_cast<int>(bad);
}

}  // namespace workload
