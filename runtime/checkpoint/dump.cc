// dump_container(): the checkpoint pipeline after the seize, as a list of stages.
#include "common/error.h"
#include "runtime/checkpoint/checkpoint.h"
#include "runtime/checkpoint/dump_context.h"
#include "runtime/checkpoint/proc_state.h"
#include "runtime/task/registers.h"

namespace ckpt::checkpoint {

namespace {

void enter(const DumpContext& ctx, Stage stage) {
  ctx.progress(stage);
  if (ctx.options.fail_at_stage == stage) {
    throw Error(std::string("injected failure at stage ") + stage_name(stage) + " (test only)");
  }
}

}  // namespace

model::Checkpoint dump_container(SeizedContainer& seized, image::ImageWriter& writer,
                                 const DumpOptions& options) {
  // No context of its own: the caller names the container ("checkpoint 'web1'"), and the
  // refusals say "cannot checkpoint: ..." themselves.
  DumpContext ctx{seized, writer, options, read_root(seized.init_host_pid())};
  ctx.processes.resize(seized.processes().size());

  enter(ctx, Stage::classify);
  classify_stage(ctx);
  classify_user_namespace(ctx);

  enter(ctx, Stage::namespaces);
  namespaces_stage(ctx);

  enter(ctx, Stage::filesystems);
  filesystems_stage(ctx);

  enter(ctx, Stage::task_state);
  task_state_stage(ctx);
  credentials_to_namespace_view(ctx);

  enter(ctx, Stage::memory);
  memory_stage(ctx);
  files_stage(ctx);  // bulk bytes like memory: reported as part of that stage

  enter(ctx, Stage::assemble);
  model::Checkpoint cp;
  cp.processes = std::move(ctx.processes);  // already parents before children (build_tree)
  cp.shared_memory = std::move(ctx.shared_memory);
  cp.uts = std::move(ctx.uts);
  cp.tmpfs_mounts = std::move(ctx.tmpfs_mounts);
  cp.files = std::move(ctx.files);
  cp.ghost_files = ctx.ghosts.take();
  cp.xsave_features = task::xsave_features();
  cp.user_namespace = std::move(ctx.user_namespace);
  return cp;
}

}  // namespace ckpt::checkpoint
