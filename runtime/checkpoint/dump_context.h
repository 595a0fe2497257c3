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
#include "runtime/checkpoint/tmpfs_dump.h"
#include "runtime/files/file_kind.h"
#include "runtime/files/ghost_inodes.h"
#include "runtime/model/task_model.h"
#include "runtime/task/gadgets.h"

namespace ckpt::checkpoint {

struct DumpContext {
  SeizedContainer& seized;
  image::ImageWriter& writer;
  const DumpOptions& options;
  std::string root;  // the container's root directory as the dumper sees it
  std::vector<model::Process> processes;
  std::vector<model::SharedMemory> shared_memory;
  std::optional<model::UtsNames> uts;
  // Open file descriptions (classify_stage), with their holders: descriptions[i] is files[i].
  std::vector<model::File> files;
  std::vector<files::Description> descriptions;
  files::GhostInodes ghosts;  // deleted files among them, one per inode
  uint64_t bytes_written = 0;
  // The code each guarded injection returns through, found once per mapped file.
  task::GadgetFinder gadgets;
  std::vector<ScannedTmpfs> tmpfs;  // walked during classification, archived by `filesystems`
  std::vector<model::TmpfsMount> tmpfs_mounts;
  // The container's user namespace; empty when its tasks run in the dumper's own.
  std::optional<model::UserNamespace> user_namespace;

  void progress(Stage stage) const {
    if (options.progress) options.progress(stage, bytes_written);
  }
};

// Stage `classify`: fds and mappings of every task; throws one "cannot checkpoint: ..." line.
void classify_stage(DumpContext& ctx);
// Stage `namespaces`: UTS names into ctx.uts; refuses tasks in namespaces of their own, mounts
// changed at run time and IPC objects.
void namespaces_stage(DumpContext& ctx);
// Part of `classify`: finds the container's own tmpfs mounts and walks each into ctx.tmpfs,
// adding what cannot be captured to `problems`.
void classify_filesystems(DumpContext& ctx, std::vector<std::string>& problems);
// Stage `filesystems`: the archive of each walked tmpfs into its stream tmpfs-<n>.
void filesystems_stage(DumpContext& ctx);
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
// The bulk state of open files (deleted files' contents), run within stage `memory`.
void files_stage(DumpContext& ctx);

// Throws the one line a refusing stage ends with: "cannot checkpoint: <first problem> (and N
// more problems)". Returns when `problems` is empty.
void refuse_if_any(const std::vector<std::string>& problems);

// Reads and classifies the mappings of host pid `pid` (smaps), resolving mappings of deleted
// files among `ghosts`. Throws on the first refusal.
std::vector<model::Vma> read_vmas(pid_t pid, const std::string& root,
                                  const files::GhostInodes& ghosts);

}  // namespace ckpt::checkpoint
