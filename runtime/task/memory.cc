#include "runtime/task/memory.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>

#include "common/error.h"
#include "common/format.h"

namespace ckpt::task {

namespace {

// One process_vm_* call covers at most IOV_MAX ranges; it returns the bytes moved, stopping at
// the first range it cannot access. `done` tells how far each call got so the caller can fall
// back for the failing range only and carry on with the rest.
template <typename Range, typename Fn, typename Fallback>
void transfer(const std::vector<Range>& ranges, Fn vm_call, Fallback fallback) {
  size_t i = 0;
  size_t offset = 0;  // bytes of ranges[i] already transferred
  std::vector<iovec> local, remote;
  while (i < ranges.size()) {
    local.clear();
    remote.clear();
    for (size_t j = i; j < ranges.size() && local.size() < IOV_MAX; ++j) {
      size_t skip = j == i ? offset : 0;
      if (ranges[j].len == skip) continue;
      auto* base = static_cast<char*>(const_cast<void*>(static_cast<const void*>(ranges[j].local)));
      local.push_back({base + skip, ranges[j].len - skip});
      remote.push_back({reinterpret_cast<void*>(ranges[j].addr + skip), ranges[j].len - skip});
    }
    if (local.empty()) break;
    ssize_t n = vm_call(local.data(), local.size(), remote.data(), remote.size());
    if (n <= 0) {
      // The first range is refused: move it through /proc/PID/mem and go on.
      fallback(
          ranges[i].addr + offset,
          static_cast<char*>(const_cast<void*>(static_cast<const void*>(ranges[i].local))) + offset,
          ranges[i].len - offset);
      ++i;
      offset = 0;
      continue;
    }
    size_t left = static_cast<size_t>(n);
    while (left > 0 && i < ranges.size()) {
      size_t rest = ranges[i].len - offset;
      size_t take = std::min(rest, left);
      offset += take;
      left -= take;
      if (offset == ranges[i].len) {
        ++i;
        offset = 0;
      }
    }
    while (i < ranges.size() && ranges[i].len == 0) ++i;
  }
}

}  // namespace

int TaskMemory::mem_fd(int flags) {
  if (!mem_ || (flags == O_RDWR && mem_flags_ != O_RDWR)) {
    std::string path = "/proc/" + std::to_string(pid_) + "/mem";
    int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) throw sys_error("open " + path);
    mem_.reset(fd);
    mem_flags_ = flags;
  }
  return mem_.get();
}

void TaskMemory::mem_read(uint64_t addr, void* buf, size_t len) {
  int fd = mem_fd(mem_flags_ == O_RDWR ? O_RDWR : O_RDONLY);
  auto* p = static_cast<char*>(buf);
  while (len > 0) {
    ssize_t n = pread(fd, p, len, static_cast<off_t>(addr));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw Error("read memory of task " + std::to_string(pid_) + " at " + hex(addr),
                  n < 0 ? errno : EFAULT);
    }
    p += n;
    addr += n;
    len -= n;
  }
}

void TaskMemory::mem_write(uint64_t addr, const void* buf, size_t len) {
  int fd = mem_fd(O_RDWR);
  auto* p = static_cast<const char*>(buf);
  while (len > 0) {
    ssize_t n = pwrite(fd, p, len, static_cast<off_t>(addr));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw Error("write memory of task " + std::to_string(pid_) + " at " + hex(addr),
                  n < 0 ? errno : EFAULT);
    }
    p += n;
    addr += n;
    len -= n;
  }
}

void TaskMemory::read_batch(const std::vector<RemoteRead>& ranges) {
  transfer(
      ranges,
      [&](iovec* l, size_t nl, iovec* r, size_t nr) {
        return process_vm_readv(pid_, l, nl, r, nr, 0);
      },
      [&](uint64_t addr, char* buf, size_t len) { mem_read(addr, buf, len); });
}

void TaskMemory::write_batch(const std::vector<RemoteWrite>& ranges) {
  transfer(
      ranges,
      [&](iovec* l, size_t nl, iovec* r, size_t nr) {
        return process_vm_writev(pid_, l, nl, r, nr, 0);
      },
      [&](uint64_t addr, char* buf, size_t len) { mem_write(addr, buf, len); });
}

}  // namespace ckpt::task
