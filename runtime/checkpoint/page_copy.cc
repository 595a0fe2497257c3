#include "runtime/checkpoint/page_copy.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "common/error.h"
#include "common/file_util.h"
#include "image/ordered_worker.h"
#include "runtime/model/shared_extent.h"

namespace ckpt::checkpoint {

namespace {
std::string hex(uint64_t v) {
  std::ostringstream out;
  out << std::hex << v;
  return out.str();
}
}  // namespace

PageCopier::PageCopier(pid_t pid, size_t buffer_bytes) : pid_(pid), buffer_bytes_(buffer_bytes) {}

uint64_t PageCopier::copy(const std::vector<model::PageRun>& runs, image::StreamWriter& out) {
  uint64_t total = 0;
  for (const auto& run : runs) total += run.npages * 4096;
  if (total == 0) return 0;
  // A small process gets buffers its size, not three times 8 MiB of first-touched memory.
  const size_t chunk = static_cast<size_t>(std::min<uint64_t>(buffer_bytes_, total));
  // Declared after buffers_ (a member) and destroyed first: no write can outlive its buffer.
  // Two writes in flight: one running, one queued, while this thread fills a third buffer.
  image::OrderedWorker writer(2);
  buffers_.resize(writer.max_pending() + 1);
  size_t jobs = 0;
  auto flush = [&] {
    if (batch_.empty()) return;
    std::vector<char>& buffer = buffers_[writer.ring_slot(jobs++)];
    if (buffer.size() < chunk) buffer.resize(chunk);
    read_batch(buffer.data());
    writer.submit([&out, data = buffer.data(), len = filled_] { out.write(data, len); });
    batch_.clear();
    filled_ = 0;
  };
  for (const auto& run : runs) {
    uint64_t addr = run.start;
    uint64_t left = run.npages * 4096;
    while (left > 0) {
      if (filled_ == chunk || batch_.size() == IOV_MAX) flush();
      size_t len = std::min<uint64_t>(left, chunk - filled_);
      batch_.push_back(Piece{addr, len});
      filled_ += len;
      addr += len;
      left -= len;
    }
  }
  flush();
  writer.drain();
  return total;
}

void PageCopier::read_batch(char* dst) {
  std::vector<iovec> remote(batch_.size());
  for (size_t i = 0; i < batch_.size(); ++i)
    remote[i] = iovec{reinterpret_cast<void*>(batch_[i].addr), batch_[i].len};
  iovec local{dst, filled_};
  ssize_t got = process_vm_readv(pid_, &local, 1, remote.data(), remote.size(), 0);
  size_t done = got > 0 ? static_cast<size_t>(got) : 0;
  if (done < filled_) {
    // The transfer stops at the first unreadable piece; finish the batch through /proc/PID/mem.
    size_t offset = 0;
    for (const Piece& p : batch_) {
      if (offset + p.len > done) {
        size_t skip = done > offset ? done - offset : 0;
        read_with_mem(p.addr + skip, dst + offset + skip, p.len - skip);
      }
      offset += p.len;
    }
  }
}

void PageCopier::read_with_mem(uint64_t addr, char* dst, size_t len) {
  if (!mem_) mem_ = open_file("/proc/" + std::to_string(pid_) + "/mem", O_RDONLY);
  while (len > 0) {
    ssize_t n = pread(mem_.get(), dst, len, static_cast<off_t>(addr));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw Error("read memory of pid " + std::to_string(pid_) + " at 0x" + hex(addr),
                  n < 0 ? errno : EIO);
    }
    dst += n;
    addr += static_cast<uint64_t>(n);
    len -= static_cast<size_t>(n);
  }
}

uint64_t copy_shared_object(pid_t pid, uint64_t start, uint64_t end, uint64_t extent,
                            image::StreamWriter& out) {
  std::string path = "/proc/" + std::to_string(pid) + "/map_files/" + hex(start) + "-" + hex(end);
  UniqueFd fd = open_file(path, O_RDONLY);
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) throw sys_error("stat " + path);
  uint64_t file_size = static_cast<uint64_t>(st.st_size);
  uint64_t size = model::shared_object_size(file_size, extent);
  // Reading a hole of a shmem file returns zeros without allocating memory.
  std::vector<char> buf(std::min<uint64_t>(size, 8u << 20));
  for (uint64_t off = 0; off < size;) {
    size_t len = std::min<uint64_t>(buf.size(), size - off);
    ssize_t n = 0;
    if (off < file_size) {
      n = pread(fd.get(), buf.data(), std::min<uint64_t>(len, file_size - off),
                static_cast<off_t>(off));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw Error("read " + path, n < 0 ? errno : EIO);
    } else {
      // Past the end of the file nothing can be stored (shmem faults there raise SIGBUS).
      std::fill(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(len), 0);
      n = static_cast<ssize_t>(len);
    }
    out.write(buf.data(), static_cast<size_t>(n));
    off += static_cast<uint64_t>(n);
  }
  return size;
}

}  // namespace ckpt::checkpoint
