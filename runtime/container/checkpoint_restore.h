// The checkpoint and restore verbs at container level: they wrap the process engines
// (runtime/checkpoint, runtime/restore) with what makes a container: its spec, cgroup,
// namespaces, network, clocks and state directory.
//
// The image body written here:
//   {"container": {id, hostname, created, checkpointed},
//    "spec": <ContainerSpec JSON>, "checkpoint": <model::Checkpoint JSON>,
//    "clocks": {"monotonic_ns", "boottime_ns"}  (as the container saw them when frozen)}
#pragma once

#include <optional>
#include <string>

#include "image/image.h"
#include "runtime/checkpoint/checkpoint.h"
#include "runtime/container/state.h"

namespace ckpt::runtime {

struct CheckpointOptions {
  std::string image_path;
  bool leave_running = false;
  image::CompressionSpec compression;
  bool quiet = false;
  std::optional<checkpoint::Stage> fail_at_stage;  // tests only
  // Tests only: damage the image right after commit, so the verification before the original
  // is stopped has something to find.
  bool test_corrupt_image = false;
};

struct CheckpointResult {
  std::string image_path;
  uint64_t image_bytes = 0;
  double frozen_seconds = 0;  // from freeze until the tasks ran again or were killed
  double total_seconds = 0;
  size_t processes = 0;
};

// Freezes, dumps, commits and verifies; then kills and removes the container, or
// (leave_running) lets it continue. On any failure, and after a kill of this process (see
// checkpoint_guardian.h), the container continues untouched (a paused one stays paused) and
// no image is left at the path. Refuses, before freezing anything, a second checkpoint of the
// same container, an image path that is a symlink or that another checkpoint is writing.
CheckpointResult checkpoint_container(const StateStore& store, const std::string& id,
                                      const CheckpointOptions& options);

struct RestoreOptions {
  std::string image_path;
  std::string name;  // default: the checkpointed container's id
  bool detach = false;
  bool quiet = false;
  std::string pid_file;
  // The image's interfaces inside the container with no host side (ns::setup_detached_network):
  // a copy can run beside its original, which holds the same addresses and MACs on the host.
  bool network_detached = false;
};

// Recreates the container from the image alone. Foreground: returns the workload's exit status
// when it ends; detached: returns 0 once it runs under a monitor. A failure leaves nothing.
int restore_container(const StateStore& store, const RestoreOptions& options);

}  // namespace ckpt::runtime
