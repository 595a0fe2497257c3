// Stage `namespaces` (DESIGN.md pipeline step 7, "Namespace state is dumped as it is at the
// freeze"): right after `classify` and still before a byte is written, the container's
// namespace state is read while every task is stopped. The UTS names go into the model; what
// the image cannot bring back yet (a task in a namespace of its own, a mount changed at run
// time, an IPC object) makes the checkpoint refuse, naming each.
#include "runtime/checkpoint/dump_context.h"
#include "runtime/checkpoint/namespace_check.h"

namespace ckpt::checkpoint {

void namespaces_stage(DumpContext& ctx) {
  std::vector<TreeNode> tasks;
  for (const SeizedProcess& p : ctx.seized.processes()) tasks.push_back(p.node);
  auto probe = kernel_namespace_probe();
  NamespaceFindings found = check_namespaces(*probe, tasks, ctx.options.initial_mounts);
  refuse_if_any(found.problems);
  if (found.uts) ctx.uts = model::UtsNames{found.uts->hostname, found.uts->domainname};
}

}  // namespace ckpt::checkpoint
