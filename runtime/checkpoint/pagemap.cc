#include "runtime/checkpoint/pagemap.h"

#include <unistd.h>

#include <sstream>

#include "common/error.h"

namespace ckpt::checkpoint {

namespace {

bool selected(uint64_t entry, PageSelect select) {
  switch (select) {
    case PageSelect::touched:
      return (entry & (kPmPresent | kPmSwapped)) != 0;
    case PageSelect::anonymous_only:
      return (entry & kPmSwapped) != 0 ||
             ((entry & kPmPresent) != 0 && (entry & kPmFileOrShared) == 0);
  }
  return false;
}

}  // namespace

void append_runs(uint64_t start, const uint64_t* entries, size_t n, PageSelect select,
                 std::vector<model::PageRun>& runs) {
  for (size_t i = 0; i < n; ++i) {
    if (!selected(entries[i], select)) continue;
    uint64_t addr = start + i * kPageSize;
    if (!runs.empty() && runs.back().start + runs.back().npages * kPageSize == addr) {
      ++runs.back().npages;
    } else {
      runs.push_back(model::PageRun{addr, 1});
    }
  }
}

std::vector<model::PageRun> read_page_runs(int pagemap_fd, uint64_t start, uint64_t end,
                                           PageSelect select) {
  // 64 Ki entries = 512 KiB of pagemap = 256 MiB of address space per pread.
  constexpr size_t kChunk = 64 * 1024;
  std::vector<uint64_t> buf(kChunk);
  std::vector<model::PageRun> runs;
  for (uint64_t addr = start; addr < end;) {
    size_t n = std::min<uint64_t>(kChunk, (end - addr) / kPageSize);
    off_t off = static_cast<off_t>(addr / kPageSize * sizeof(uint64_t));
    ssize_t got = pread(pagemap_fd, buf.data(), n * sizeof(uint64_t), off);
    if (got < 0) {
      if (errno == EINTR) continue;
      std::ostringstream what;
      what << "read pagemap at 0x" << std::hex << addr;
      throw sys_error(what.str());
    }
    if (got == 0 || got % sizeof(uint64_t) != 0) {
      std::ostringstream what;
      what << "read pagemap at 0x" << std::hex << addr << ": short read";
      throw Error(what.str());
    }
    size_t entries = static_cast<size_t>(got) / sizeof(uint64_t);
    append_runs(addr, buf.data(), entries, select, runs);
    addr += entries * kPageSize;
  }
  return runs;
}

uint64_t total_pages(const std::vector<model::PageRun>& runs) {
  uint64_t n = 0;
  for (const auto& r : runs) n += r.npages;
  return n;
}

}  // namespace ckpt::checkpoint
