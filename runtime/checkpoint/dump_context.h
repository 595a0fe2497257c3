// The state of one dump_container() call, passed from stage to stage (no globals): the seized
// tasks, the image being written, and the model being filled, processes[i] describing
// seized.processes()[i].
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "image/image.h"
#include "runtime/checkpoint/checkpoint.h"
#include "runtime/model/task_model.h"

namespace ckpt::checkpoint {

struct DumpContext {
  SeizedContainer& seized;
  image::ImageWriter& writer;
  const DumpOptions& options;
  std::string root;  // the container's root directory as the dumper sees it
  std::vector<model::Process> processes;
  std::vector<model::SharedMemory> shared_memory;
  uint64_t bytes_written = 0;
  // The container's user namespace; empty when its tasks run in the dumper's own.
  std::optional<model::UserNamespace> user_namespace;

  void progress(Stage stage) const {
    if (options.progress) options.progress(stage, bytes_written);
  }
};

// Stage `classify`: fds and mappings of every task; throws one "cannot checkpoint: ..." line.
void classify_stage(DumpContext& ctx);
// Stage `task_state`: registers, signals, creds, mm, rlimits, injected queries.
void task_state_stage(DumpContext& ctx);
// user_namespace_dump.cc, part of stage `classify`: reads the container's user namespace (its
// init's) into ctx.user_namespace, and refuses any task in another user namespace.
void classify_user_namespace(DumpContext& ctx);
// user_namespace_dump.cc, after stage `task_state`: the credentials of every process, read from
// /proc in the dumper's view, into the container's (what a restore sets from inside).
void credentials_to_namespace_view(DumpContext& ctx);
// Stage `memory`: page streams and shared objects.
void memory_stage(DumpContext& ctx);

// Reads and classifies the mappings of host pid `pid` (smaps). Throws on the first refusal.
std::vector<model::Vma> read_vmas(pid_t pid, const std::string& root);

}  // namespace ckpt::checkpoint
