// Which pages of a mapping hold data worth dumping, from /proc/PID/pagemap
// (Documentation/admin-guide/mm/pagemap.rst): one u64 per virtual page, bit 63 "present",
// bit 62 "swapped", bit 61 "file-page or shared-anon". Soft-dirty (bit 55) is not used: it is
// not enabled on every kernel and a full dump needs every touched page anyway.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "runtime/model/task_model.h"

namespace ckpt::checkpoint {

constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kPmPresent = 1ULL << 63;
constexpr uint64_t kPmSwapped = 1ULL << 62;
constexpr uint64_t kPmFileOrShared = 1ULL << 61;

enum class PageSelect {
  touched,         // present or swapped: private anonymous memory
  anonymous_only,  // private COW copies inside a file mapping: present with bit 61 clear, or
                   // swapped (file pages are never swapped, only their anonymous copies)
};

// Pure: coalesces the selected pages of entries[0..n) (page i at start + i*4096) into runs.
// Appends to `runs`, merging with its last run when contiguous.
void append_runs(uint64_t start, const uint64_t* entries, size_t n, PageSelect select,
                 std::vector<model::PageRun>& runs);

// Reads /proc/PID/pagemap for [start, end) in bounded chunks and returns the selected runs.
// `pagemap_fd` is an open /proc/PID/pagemap (borrowed).
std::vector<model::PageRun> read_page_runs(int pagemap_fd, uint64_t start, uint64_t end,
                                           PageSelect select);

uint64_t total_pages(const std::vector<model::PageRun>& runs);

}  // namespace ckpt::checkpoint
