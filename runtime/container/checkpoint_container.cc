// `crun-ckpt checkpoint`: freeze, seize, dump, commit, then kill or let continue.
#include <signal.h>

#include <chrono>
#include <filesystem>

#include "cgroup/cgroup.h"
#include "common/error.h"
#include "config/spec_json.h"
#include "runtime/container/checkpoint_restore.h"
#include "runtime/container/clocks.h"
#include "runtime/container/launcher.h"
#include "runtime/container/lifecycle.h"
#include "runtime/container/progress.h"
#include "runtime/container/user_namespace_spec.h"
#include "runtime/model/model_json.h"

namespace ckpt::runtime {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

nlohmann::json image_body(const ContainerState& state, const config::ContainerSpec& spec,
                          const model::Checkpoint& checkpoint, const ContainerClocks& clocks) {
  return {{"container",
           {{"id", state.id},
            {"hostname", spec.hostname},
            {"created", state.created},
            {"checkpointed", now_iso8601()}}},
          {"spec", config::spec_to_json(spec)},
          {"checkpoint", model::to_json(checkpoint)},
          {"clocks", {{"monotonic_ns", clocks.monotonic_ns}, {"boottime_ns", clocks.boottime_ns}}}};
}

// What the committed image occupies: every file in it, manifest included.
uint64_t directory_bytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.is_regular_file()) total += entry.file_size();
  return total;
}

}  // namespace

CheckpointResult checkpoint_container(const StateStore& store, const std::string& id,
                                      const CheckpointOptions& options) {
  ContainerState state = store.load(id);
  if (current_status(store, state) == Status::stopped)
    throw Error("cannot checkpoint container '" + id + "': it is stopped");
  config::ContainerSpec spec = store.load_spec(id);
  auto cg = cgroup::open(cgroup::detect_layout(), id);

  ProgressLine progress(options.quiet);
  checkpoint::DumpOptions dump_options;
  dump_options.compression = options.compression;
  dump_options.fail_at_stage = options.fail_at_stage;
  for (const auto& [dev, ino] : state.stdio_files)
    dump_options.external_stdio.push_back({static_cast<dev_t>(dev), static_cast<ino_t>(ino)});
  dump_options.progress = [&progress](checkpoint::Stage stage, uint64_t bytes) {
    progress.update(std::string("checkpoint ") + checkpoint::stage_name(stage), bytes);
  };

  CheckpointResult result;
  result.image_path = options.image_path;
  auto start = Clock::now();
  with_context("checkpoint '" + id + "'", [&] {
    // The writer exists before the freeze so a bad --image-path costs the container nothing.
    image::ImageWriter writer(options.image_path);
    auto frozen_at = Clock::now();
    checkpoint::SeizedContainer seized = checkpoint::seize_container(*cg, state.pid, dump_options);
    // Clocks are read while every task is stopped: the restore continues them from here.
    ContainerClocks clocks = read_container_clocks(state.pid);
    model::Checkpoint cp = checkpoint::dump_container(seized, writer, dump_options);
    check_spec_recreates_user_namespace(spec, cp.user_namespace);
    writer.commit(image_body(state, spec, cp, clocks));
    result.image_bytes = directory_bytes(options.image_path);
    result.processes = cp.processes.size();
    if (options.leave_running) {
      seized.detach();
      result.frozen_seconds = seconds_since(frozen_at);
      return;
    }
    seized.kill();
    result.frozen_seconds = seconds_since(frozen_at);
  });
  progress.clear();
  if (!options.leave_running) {
    // The image now holds the container; free its name, cgroup and network for the restore.
    teardown(id, spec);
    if (state.detached && state.monitor_pid > 0) wait_for_process_exit(state.monitor_pid);
    store.remove(id);
  }
  result.total_seconds = seconds_since(start);
  return result;
}

}  // namespace ckpt::runtime
