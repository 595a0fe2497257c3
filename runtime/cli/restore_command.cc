#include "runtime/cli/command.h"
#include "runtime/container/checkpoint_restore.h"

namespace ckpt::cli {

void add_restore_command(CLI::App& app, const Globals& globals, Action& action) {
  auto* cmd = with_example(
      app.add_subcommand("restore", "recreate a container from a checkpoint image"),
      "crun-ckpt restore -d --image-path /var/lib/ckpt/web1 --name web1-copy");
  auto options = std::make_shared<runtime::RestoreOptions>();
  cmd->add_option("--image-path", options->image_path, "the image directory")->required();
  cmd->add_flag("-d,--detach", options->detach, "run in the background; output goes to `logs`");
  cmd->add_option("--name", options->name, "container id (default: the checkpointed one's)");
  cmd->add_option("--pid-file", options->pid_file, "write the container init's host pid here");
  cmd->add_flag("-q,--quiet", options->quiet, "no progress line");
  cmd->add_flag("--network-detached", options->network_detached,
                "the image's interfaces, addresses and MACs inside, with no host side (to run a "
                "copy beside its original)");
  cmd->callback([&globals, &action, options] {
    action = [&globals, options] {
      int code = runtime::restore_container(globals.store(), *options);
      if (options->detach) std::printf("restored %s\n", options->image_path.c_str());
      return code;
    };
  });
}

}  // namespace ckpt::cli
