// Stage `classify` (DESIGN.md "Restartability and leaks"): before a byte is written, every fd
// and every mapping of every task is classified; anything reaching outside the container or of
// a kind not supported yet makes the checkpoint refuse, naming the task, the fd and why.
//
// Fds are judged per open file description, the kernel object they point at: fds that share
// one (dup, fork, SCM_RIGHTS) are found with kcmp (file_identity.h), the description is judged
// once by the handler of its kind (runtime/files/file_kinds.h), becomes one model::File, and
// every holder's fd table points at it.
#include <fcntl.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "common/file_util.h"
#include "runtime/checkpoint/dump_context.h"
#include "runtime/checkpoint/fd_facts.h"
#include "runtime/checkpoint/file_identity.h"
#include "runtime/checkpoint/vma_classify.h"
#include "runtime/files/file_kinds.h"

namespace ckpt::checkpoint {

namespace {

// One fd of one task, as read.
struct SeenFd {
  size_t process = 0;  // index into ctx.processes
  FdFacts facts;
};

GhostLookup ghost_lookup(const files::GhostInodes& ghosts) {
  return [&ghosts](unsigned dev_major, unsigned dev_minor, uint64_t ino) {
    return ghosts.find(dev_major, dev_minor, ino);
  };
}

// Reads every fd of every live task; the pipe ends are noted on the way (a pipe is internal
// when both its ends are held inside, which only the whole container tells).
std::vector<SeenFd> read_all_fds(DumpContext& ctx, files::ClassifyEnv& env) {
  std::vector<SeenFd> seen;
  auto& procs = ctx.seized.processes();
  for (size_t i = 0; i < procs.size(); ++i) {
    if (procs[i].node.zombie) continue;  // no fds, no memory left
    std::vector<FdFacts> facts =
        with_context(task_name(procs[i].node.pid, procs[i].node.comm),
                     [&] { return read_fd_facts(procs[i].node.host_pid); });
    for (FdFacts& f : facts) {
      env.pipes.add(f);
      seen.push_back({i, std::move(f)});
    }
  }
  return seen;
}

// Groups the fds into descriptions, in order of first appearance; first_fd[d] is the index in
// `seen` of the first holder of description d.
std::vector<files::Description> describe_all(DumpContext& ctx, const std::vector<SeenFd>& seen,
                                             std::vector<size_t>& group,
                                             std::vector<size_t>& first_fd) {
  auto& procs = ctx.seized.processes();
  std::vector<FdRef> refs;
  refs.reserve(seen.size());
  for (const SeenFd& s : seen)
    refs.push_back({procs[s.process].node.host_pid, s.facts.fd, s.facts.dev, s.facts.ino});
  KcmpIdentity kcmp;
  group = group_descriptions(refs, kcmp);

  std::vector<files::Description> out;
  for (size_t k = 0; k < seen.size(); ++k) {
    if (group[k] == out.size()) {
      out.push_back({seen[k].facts, {}});
      first_fd.push_back(k);
    }
    const TreeNode& node = procs[seen[k].process].node;
    out[group[k]].holders.push_back(
        {node.host_pid, node.pid, seen[k].facts.fd, (seen[k].facts.info.flags & O_CLOEXEC) != 0});
  }
  return out;
}

}  // namespace

std::vector<model::Vma> read_vmas(pid_t pid, const std::string& root,
                                  const files::GhostInodes& ghosts) {
  std::string path = "/proc/" + std::to_string(pid) + "/smaps";
  std::vector<SmapsEntry> entries =
      with_context(path, [&] { return parse_smaps(read_file(path)); });
  std::vector<model::Vma> out;
  out.reserve(entries.size());
  for (const auto& e : entries) out.push_back(classify_vma(e, root, ghost_lookup(ghosts)));
  return out;
}

void classify_stage(DumpContext& ctx) {
  std::vector<std::string> problems;
  auto& procs = ctx.seized.processes();
  files::ClassifyEnv env{ctx.root, {}, ctx.options.external_stdio, &ctx.ghosts};

  std::vector<SeenFd> seen = read_all_fds(ctx, env);
  std::vector<size_t> group, first_fd;
  std::vector<files::Description> descriptions = describe_all(ctx, seen, group, first_fd);

  // Each description judged once, by the handler of its kind.
  std::vector<uint64_t> file_id(descriptions.size(), 0);
  for (size_t d = 0; d < descriptions.size(); ++d) {
    files::Classified c = files::classify(descriptions[d], env);
    if (!c.verdict.ok()) {
      const SeenFd& first = seen[first_fd[d]];
      const TreeNode& node = procs[first.process].node;
      problems.push_back(task_name(node.pid, node.comm) + " fd " + std::to_string(first.facts.fd) +
                         ": " + first.facts.link + " (" + c.verdict.refusal + ")");
      continue;
    }
    c.file.id = ctx.files.size() + 1;
    file_id[d] = c.file.id;
    ctx.files.push_back(std::move(c.file));
    ctx.descriptions.push_back(std::move(descriptions[d]));
  }
  for (model::Process& p : ctx.processes) p.fds.clear();
  for (size_t k = 0; k < seen.size(); ++k) {
    if (file_id[group[k]] == 0) continue;
    const FdFacts& f = seen[k].facts;
    ctx.processes[seen[k].process].fds.push_back(
        {f.fd, file_id[group[k]], (f.info.flags & O_CLOEXEC) != 0});
  }

  for (size_t i = 0; i < procs.size(); ++i) {
    const TreeNode& node = procs[i].node;
    if (node.zombie) continue;
    std::string who = task_name(node.pid, node.comm);
    // Every mapping, checked now; the memory stage reads them again once the injected scratch
    // pages are gone.
    std::string path = "/proc/" + std::to_string(node.host_pid) + "/smaps";
    std::vector<SmapsEntry> entries =
        with_context(path, [&] { return parse_smaps(read_file(path)); });
    for (const auto& e : entries) {
      try {
        classify_vma(e, ctx.root, ghost_lookup(ctx.ghosts));
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
