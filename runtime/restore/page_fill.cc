// Filling the restored VMAs with the pages stored in the process's page stream.
//
// A pipeline: this thread takes chunks from the stream (a raw stream hands out its file's
// mapping, checksummed as it goes, so the bytes are copied once, page cache -> target; a zstd
// stream decompresses into ring buffers) while two writer lanes (image::OrderedWorker each)
// move earlier chunks into the target with process_vm_writev, alternately: the copy and the
// first touch of the target's fresh pages are the bulk of the work, and chunks go to disjoint
// addresses, so the lanes need no order between them. Pages land in
// the stopped target before the stream's checksum is final: that is safe because
// stream->finish() runs before the restore goes on, and a mismatch fails the restore, which
// kills every restored task before any of them has run.
#include <algorithm>
#include <memory>

#include "common/error.h"
#include "common/format.h"
#include "image/ordered_worker.h"
#include "runtime/restore/restore_context.h"

namespace ckpt::restore {

namespace {

using model::Vma;

constexpr size_t kFillChunk = 8 << 20;  // bytes per process_vm_writev batch
constexpr size_t kWritesInFlight = 2;   // per lane: one running, one queued, one being read
constexpr size_t kLanes = 2;

// One writer thread with its own TaskMemory (its /proc/PID/mem fallback fd is not shared) and
// the buffers its jobs read from when the stream cannot hand out views.
struct Lane {
  explicit Lane(pid_t pid) : memory(pid), buffers(kWritesInFlight + 1) {}
  task::TaskMemory memory;
  std::vector<std::vector<char>> buffers;
  size_t jobs = 0;
  // Last: destroyed first, so no write outlives the memory object or its source bytes.
  image::OrderedWorker writer{kWritesInFlight};
};

}  // namespace

// Reads the process's page stream run by run, in address order, and writes the pages.
void fill_pages(ProcessContext& ctx, const std::vector<const Vma*>& vmas) {
  bool any = std::any_of(vmas.begin(), vmas.end(), [](const Vma* v) { return !v->runs.empty(); });
  if (!any) return;
  if (ctx.process.pages_stream.empty()) {
    throw Error("VMAs have dumped pages but the process names no page stream");
  }
  const std::string where = "page stream " + ctx.process.pages_stream;
  auto stream = ctx.image.open_stream(ctx.process.pages_stream);
  // After the stream: destroyed first, so no write outlives the mapping it reads from.
  std::vector<std::unique_ptr<Lane>> lanes;
  for (size_t i = 0; i < kLanes; ++i) lanes.push_back(std::make_unique<Lane>(ctx.host_pid));
  size_t next_lane = 0;
  std::vector<task::RemoteWrite> batch;
  size_t used = 0;
  auto submit = [&] {
    if (batch.empty()) return;
    Lane& lane = *lanes[next_lane];
    lane.writer.submit([&memory = lane.memory, b = std::move(batch)] { memory.write_batch(b); });
    ++lane.jobs;
    next_lane = (next_lane + 1) % lanes.size();
    batch.clear();
    used = 0;
  };
  for (const Vma* v : vmas) {
    for (const model::PageRun& run : v->runs) {
      if (run.start < v->start || run.start + run.npages * kPageSize > v->end) {
        throw Error("VMA " + hex(v->start) + ": page run at " + hex(run.start) +
                    " lies outside it");
      }
      uint64_t addr = run.start;
      uint64_t left = run.npages * kPageSize;
      while (left > 0) {
        if (used == kFillChunk) submit();
        size_t take = std::min<uint64_t>(left, kFillChunk - used);
        const char* src = with_context(where, [&] { return stream->view(take); });
        if (src == nullptr) {
          Lane& lane = *lanes[next_lane];
          std::vector<char>& buffer = lane.buffers[lane.writer.ring_slot(lane.jobs)];
          if (buffer.empty()) buffer.resize(kFillChunk);
          with_context(where, [&] { stream->read(buffer.data() + used, take); });
          src = buffer.data() + used;
        }
        batch.push_back({addr, src, take});
        used += take;
        addr += take;
        left -= take;
      }
    }
  }
  submit();
  for (auto& lane : lanes) lane->writer.drain();
  with_context(where, [&] { stream->finish(); });
}

}  // namespace ckpt::restore
