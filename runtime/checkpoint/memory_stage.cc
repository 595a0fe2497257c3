// Stage `memory` (DESIGN.md pipeline step 5): per process, the pages that hold data go into the
// process page stream in address order (runs recorded in each Vma); shared anonymous objects go
// once each into their own stream; vdso/vvar/vsyscall and file-backed pages stay out.
#include <fcntl.h>

#include <map>

#include "common/error.h"
#include "common/file_util.h"
#include "runtime/checkpoint/dump_context.h"
#include "runtime/checkpoint/page_copy.h"
#include "runtime/checkpoint/pagemap.h"
#include "runtime/model/shared_extent.h"

namespace ckpt::checkpoint {

namespace {

// The mapping through which a shared object is read: the first one seen (any mapping gives the
// whole object through /proc/PID/map_files).
struct SharedSource {
  pid_t host_pid = 0;
  uint64_t start = 0, end = 0;
};

void dump_process_memory(DumpContext& ctx, pid_t host_pid, model::Process& p) {
  UniqueFd pagemap = open_file("/proc/" + std::to_string(host_pid) + "/pagemap", O_RDONLY);

  std::vector<model::PageRun> all_runs;
  for (model::Vma& v : p.vmas) {
    switch (v.kind) {
      case model::VmaKind::anonymous_private:
        v.runs = read_page_runs(pagemap.get(), v.start, v.end, PageSelect::touched);
        break;
      case model::VmaKind::file_private:
        // Only the private copies: pages still shared with the page cache come from the file.
        v.runs = read_page_runs(pagemap.get(), v.start, v.end, PageSelect::anonymous_only);
        break;
      case model::VmaKind::anonymous_shared:  // dumped once, by dump_shared_objects
      case model::VmaKind::file_shared:
      case model::VmaKind::vdso:
      case model::VmaKind::vvar:
      case model::VmaKind::vsyscall:
        break;
    }
    all_runs.insert(all_runs.end(), v.runs.begin(), v.runs.end());
  }

  p.pages_stream = "pages-" + std::to_string(p.pid);
  image::StreamWriter& out = ctx.writer.open_stream(p.pages_stream, ctx.options.compression);
  PageCopier copier(host_pid);
  ctx.bytes_written += copier.copy(all_runs, out);
  out.finish();
  ctx.progress(Stage::memory);
}

// Each shared anonymous object once, for all its sharers, sized to reach the furthest offset
// any of its mappings in any process needs (a process may map only part of it).
void dump_shared_objects(DumpContext& ctx, const std::map<uint64_t, SharedSource>& sources) {
  std::map<uint64_t, uint64_t> extents = model::shared_extents(ctx.processes);
  for (const auto& [id, src] : sources) {
    with_context("shared memory object " + std::to_string(id), [&] {
      model::SharedMemory shm;
      shm.id = id;
      shm.stream = "shm-" + std::to_string(id);
      image::StreamWriter& out = ctx.writer.open_stream(shm.stream, ctx.options.compression);
      shm.size = copy_shared_object(src.host_pid, src.start, src.end, extents[id], out);
      out.finish();
      ctx.bytes_written += shm.size;
      ctx.shared_memory.push_back(shm);
    });
  }
}

}  // namespace

void memory_stage(DumpContext& ctx) {
  auto& procs = ctx.seized.processes();
  // Every process's VMAs first: an object's size depends on the mappings of all its sharers.
  std::map<uint64_t, SharedSource> shared;
  for (size_t i = 0; i < procs.size(); ++i) {
    with_context(task_name(procs[i].node.pid, procs[i].node.comm), [&] {
      ctx.processes[i].vmas = read_vmas(procs[i].node.host_pid, ctx.root, ctx.ghosts);
    });
    for (const model::Vma& v : ctx.processes[i].vmas) {
      if (v.kind == model::VmaKind::anonymous_shared && !shared.count(v.shared_id))
        shared[v.shared_id] = SharedSource{procs[i].node.host_pid, v.start, v.end};
    }
  }
  dump_shared_objects(ctx, shared);
  for (size_t i = 0; i < procs.size(); ++i) {
    if (procs[i].node.zombie) continue;  // its address space is gone
    with_context(task_name(procs[i].node.pid, procs[i].node.comm),
                 [&] { dump_process_memory(ctx, procs[i].node.host_pid, ctx.processes[i]); });
  }
}

}  // namespace ckpt::checkpoint
