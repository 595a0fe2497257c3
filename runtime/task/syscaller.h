// "Run this system call inside that stopped task": what the dump and restore stages ask of the
// task layer, whichever way the call is carried out (remote_syscall.h for tasks the restore
// owns, guarded_syscall.h for live workload tasks that must survive the tracer's death).
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>

namespace ckpt::task {

class Syscaller {
 public:
  virtual ~Syscaller() = default;

  // Runs syscall `nr` in the task; returns what the raw syscall returns (-errno on failure).
  long call(long nr, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0, uint64_t a4 = 0,
            uint64_t a5 = 0, uint64_t a6 = 0) {
    return invoke(nr, {a1, a2, a3, a4, a5, a6});
  }
  // Same, but throws Error("remote NAME in task TID", errno) on a negative result.
  long check(const char* name, long nr, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0,
             uint64_t a4 = 0, uint64_t a5 = 0, uint64_t a6 = 0);
  // The thread the calls run in.
  virtual pid_t tid() const = 0;

 protected:
  virtual long invoke(long nr, const std::array<uint64_t, 6>& args) = 0;
};

}  // namespace ckpt::task
