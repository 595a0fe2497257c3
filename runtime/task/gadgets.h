// Code already present in a task that lets injected syscalls end in rt_sigreturn (sigframe.h)
// without writing any code into the task:
//   syscall_ret  a `syscall` instruction followed only by register-clearing instructions and a
//                `ret` (glibc's getpid-style wrappers `0f 05 c3`; the vdso's fallback paths
//                `0f 05 31 d2 ... c3`): after the injected call returns, `ret` pops the frame's
//                return slot;
//   sigreturn    `mov $15, %eax|%rax; syscall`: the restorer every libc (glibc, musl) and the Go
//                runtime install as sa_restorer.
// Executing either from the found address decodes exactly these instructions, whatever the
// surrounding code is, so a match inside a longer instruction is as good as any.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <tuple>

namespace ckpt::task {

struct Gadgets {
  uint64_t syscall_ret = 0;  // address of the `syscall` of a syscall...ret sequence
  uint64_t sigreturn = 0;    // address of `mov $15, %eax|%rax`
  bool complete() const { return syscall_ret != 0 && sigreturn != 0; }
};

// Offset of the first `syscall` in `code` followed by register-only instructions (xor/mov
// between registers other than rsp, nop) and `ret`. Pure.
std::optional<size_t> find_syscall_ret(std::span<const unsigned char> code);
// Offset of the first `mov $15, %eax; syscall` or `mov $15, %rax; syscall`. Pure.
std::optional<size_t> find_sigreturn(std::span<const unsigned char> code);

// Finds both gadgets in the executable mappings of a process, the [vdso] first. Results are
// cached per mapped file (device, inode, file offset; the vdso by name), so the processes of a
// container that share a libc cost one scan.
class GadgetFinder {
 public:
  Gadgets find(pid_t pid);

 private:
  struct Found {
    std::optional<size_t> syscall_ret, sigreturn;  // offsets inside the mapping
  };
  using Key = std::tuple<std::string, uint64_t, uint64_t>;  // name or device, inode, offset
  std::map<Key, Found> cache_;
};

}  // namespace ckpt::task
