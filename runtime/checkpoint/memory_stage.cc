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

namespace ckpt::checkpoint {

namespace {

void dump_process_memory(DumpContext& ctx, pid_t host_pid, model::Process& p,
                         std::map<uint64_t, size_t>& shared_index) {
  p.vmas = read_vmas(host_pid, ctx.root);
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
      case model::VmaKind::anonymous_shared:
        if (!shared_index.count(v.shared_id)) {
          model::SharedMemory shm;
          shm.id = v.shared_id;
          shm.stream = "shm-" + std::to_string(v.shared_id);
          image::StreamWriter& out = ctx.writer.open_stream(shm.stream, ctx.options.compression);
          shm.size = copy_shared_object(host_pid, v.start, v.end, out);
          out.finish();
          ctx.bytes_written += shm.size;
          shared_index[v.shared_id] = ctx.shared_memory.size();
          ctx.shared_memory.push_back(shm);
        }
        break;
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

}  // namespace

void memory_stage(DumpContext& ctx) {
  auto& procs = ctx.seized.processes();
  std::map<uint64_t, size_t> shared_index;  // shared_id -> index in ctx.shared_memory
  for (size_t i = 0; i < procs.size(); ++i) {
    with_context(task_name(procs[i].node.pid, procs[i].node.comm), [&] {
      dump_process_memory(ctx, procs[i].node.host_pid, ctx.processes[i], shared_index);
    });
  }
}

}  // namespace ckpt::checkpoint
