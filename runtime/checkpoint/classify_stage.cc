// Stage `classify` (DESIGN.md "Restartability and leaks"): before a byte is written, every fd
// and every mapping of every task is classified; anything reaching outside the container or of
// a kind not supported yet makes the checkpoint refuse, naming the task, the fd and why.
#include <string>
#include <vector>

#include "common/error.h"
#include "common/file_util.h"
#include "runtime/checkpoint/dump_context.h"
#include "runtime/checkpoint/fd_classify.h"
#include "runtime/checkpoint/vma_classify.h"

namespace ckpt::checkpoint {

std::vector<model::Vma> read_vmas(pid_t pid, const std::string& root) {
  std::string path = "/proc/" + std::to_string(pid) + "/smaps";
  std::vector<SmapsEntry> entries =
      with_context(path, [&] { return parse_smaps(read_file(path)); });
  std::vector<model::Vma> out;
  out.reserve(entries.size());
  for (const auto& e : entries) out.push_back(classify_vma(e, root));
  return out;
}

void classify_stage(DumpContext& ctx) {
  std::vector<std::string> problems;
  auto& procs = ctx.seized.processes();

  // Pipes are judged container-wide: a pipe whose both ends are inside is internal.
  std::vector<std::vector<FdFacts>> facts(procs.size());
  PipeEnds pipes;
  for (size_t i = 0; i < procs.size(); ++i) {
    if (procs[i].node.zombie) continue;  // no fds, no memory left
    facts[i] = with_context(task_name(procs[i].node.pid, procs[i].node.comm),
                            [&] { return read_fd_facts(procs[i].node.host_pid); });
    for (const auto& f : facts[i]) pipes.add(f);
  }

  for (size_t i = 0; i < procs.size(); ++i) {
    const TreeNode& node = procs[i].node;
    if (node.zombie) continue;
    std::string who = task_name(node.pid, node.comm);
    model::Process& p = ctx.processes[i];
    p.fds.clear();
    for (const auto& f : facts[i]) {
      try {
        p.fds.push_back(classify_fd(f, ctx.root, pipes, ctx.options.external_stdio));
      } catch (const Error& e) {
        problems.push_back(who + " fd " + std::to_string(f.fd) + ": " + e.message());
      }
    }
    // Every mapping, checked now; the memory stage reads them again once the injected scratch
    // pages are gone.
    std::string path = "/proc/" + std::to_string(node.host_pid) + "/smaps";
    std::vector<SmapsEntry> entries =
        with_context(path, [&] { return parse_smaps(read_file(path)); });
    for (const auto& e : entries) {
      try {
        classify_vma(e, ctx.root);
      } catch (const Error& err) {
        problems.push_back(who + ": " + err.message());
      }
    }
  }
  classify_filesystems(ctx, problems);
  refuse_if_any(problems);
}

void refuse_if_any(const std::vector<std::string>& problems) {
  if (problems.empty()) return;
  std::string line = "cannot checkpoint: " + problems.front();
  if (problems.size() > 1) {
    line += " (and " + std::to_string(problems.size() - 1) + " more problem" +
            (problems.size() > 2 ? "s" : "") + ")";
  }
  throw Error(line);
}

}  // namespace ckpt::checkpoint
