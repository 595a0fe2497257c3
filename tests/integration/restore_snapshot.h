// Test-only snapshot of a live process tree, good enough to exercise the restore engine
// without the real dump (runtime/checkpoint/ is a separate pipeline): it seizes every process
// under a pid namespace's init, records what a single-threaded workload needs (VMAs with all
// private pages, registers, xstate, mm fields, sigactions, mask, rseq, sessions and groups)
// into a model::Checkpoint, and keeps the bytes in memory behind restore::ImageSource.
// Fds 0-2 are recorded as external, others must be regular files.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>

#include "runtime/model/task_model.h"
#include "runtime/restore/image_source.h"

namespace ckpt::test {

class MemoryImage final : public restore::ImageSource {
 public:
  std::map<std::string, std::string> files;
  std::map<std::string, std::string> streams;

  std::string read_file(const std::string& name) const override;
  std::unique_ptr<image::StreamReader> open_stream(const std::string& name) const override;
};

struct Snapshot {
  model::Checkpoint checkpoint;
  MemoryImage image;
};

// Seizes all processes below (and including) `init_host_pid` and snapshots them. Then kills
// the tree while it is still stopped (so nothing runs after the snapshot, as after a real
// dump) and collects the deaths it sees as tracer; the caller reaps init if it is its child.
Snapshot snapshot_and_kill_tree(pid_t init_host_pid);

}  // namespace ckpt::test
