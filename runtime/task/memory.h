// Bulk access to another task's memory. process_vm_readv/writev move many ranges per syscall
// (up to IOV_MAX iovecs); they honour the mapping's protection, so ranges they refuse (no
// PROT_READ, or a write to a read-only mapping) go through /proc/PID/mem, which the kernel
// serves with FOLL_FORCE like a debugger's peek/poke.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/unique_fd.h"

namespace ckpt::task {

struct RemoteRead {
  uint64_t addr = 0;
  void* local = nullptr;
  size_t len = 0;
};
struct RemoteWrite {
  uint64_t addr = 0;
  const void* local = nullptr;
  size_t len = 0;
};

class TaskMemory {
 public:
  explicit TaskMemory(pid_t pid) : pid_(pid) {}

  void read(uint64_t addr, void* buf, size_t len) { read_batch({{addr, buf, len}}); }
  void write(uint64_t addr, const void* buf, size_t len) { write_batch({{addr, buf, len}}); }
  // Every range is transferred completely or an Error names the first address that failed.
  void read_batch(const std::vector<RemoteRead>& ranges);
  void write_batch(const std::vector<RemoteWrite>& ranges);

 private:
  int mem_fd(int flags);
  void mem_read(uint64_t addr, void* buf, size_t len);
  void mem_write(uint64_t addr, const void* buf, size_t len);

  pid_t pid_;
  UniqueFd mem_;
  int mem_flags_ = 0;
};

}  // namespace ckpt::task
