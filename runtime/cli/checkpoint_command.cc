#include "common/error.h"
#include "image/image.h"
#include "runtime/cli/command.h"
#include "runtime/container/checkpoint_restore.h"
#include "runtime/container/progress.h"

namespace ckpt::cli {

namespace {

std::optional<checkpoint::Stage> parse_stage(const std::string& name) {
  for (auto stage :
       {checkpoint::Stage::seize, checkpoint::Stage::classify, checkpoint::Stage::namespaces,
        checkpoint::Stage::filesystems, checkpoint::Stage::task_state, checkpoint::Stage::memory,
        checkpoint::Stage::assemble})
    if (name == checkpoint::stage_name(stage)) return stage;
  throw Error("--test-fail-at '" + name + "' is not a stage", 0,
              "use seize, classify, namespaces, filesystems, task_state, memory, assemble or "
              "verify");
}

}  // namespace

void add_checkpoint_command(CLI::App& app, const Globals& globals, Action& action) {
  auto* cmd =
      with_example(app.add_subcommand("checkpoint", "freeze a container and dump it into an image"),
                   "crun-ckpt checkpoint --image-path /var/lib/ckpt/web1 --leave-running web1");
  struct Args {
    std::string id;
    runtime::CheckpointOptions options;
    std::string compress = "zstd";
    std::string fail_at;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("id", args->id, "container id")->required();
  cmd->add_option("--image-path", args->options.image_path,
                  "directory to write the image to (must not exist, or be empty)")
      ->required();
  cmd->add_flag("--leave-running", args->options.leave_running,
                "let the container continue after the dump (default: it is stopped and removed)");
  cmd->add_option("--compress", args->compress, "none, zstd or zstd:LEVEL (1..19)")
      ->capture_default_str();
  cmd->add_flag("-q,--quiet", args->options.quiet, "no progress line");
  // Hidden: lets tests prove that a failure at each stage leaves the container running.
  cmd->add_option("--test-fail-at", args->fail_at)->group("");
  cmd->callback([&globals, &action, args] {
    action = [&globals, args] {
      args->options.compression = image::parse_compression(args->compress);
      // "verify" damages the committed image so the check before stopping the original fails.
      if (args->fail_at == "verify")
        args->options.test_corrupt_image = true;
      else if (!args->fail_at.empty())
        args->options.fail_at_stage = parse_stage(args->fail_at);
      auto result = runtime::checkpoint_container(globals.store(), args->id, args->options);
      std::printf("checkpointed %s to %s: %zu processes, %s, frozen %.3f s, total %.3f s%s\n",
                  args->id.c_str(), result.image_path.c_str(), result.processes,
                  runtime::human_bytes(result.image_bytes).c_str(), result.frozen_seconds,
                  result.total_seconds, args->options.leave_running ? " (left running)" : "");
      return 0;
    };
  });
}

}  // namespace ckpt::cli
