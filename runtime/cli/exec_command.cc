#include "runtime/cli/command.h"
#include "runtime/container/lifecycle.h"

namespace ckpt::cli {

void add_exec_command(CLI::App& app, const Globals& globals, Action& action) {
  auto* cmd = with_example(
      app.add_subcommand("exec", "run a command inside a running container"),
      "crun-ckpt exec web1 -- cat /etc/hostname");
  struct Args {
    std::string id;
    std::vector<std::string> command;
    std::vector<std::string> env;
    std::string cwd;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("id", args->id, "container id")->required();
  cmd->add_option("command", args->command, "the command and its arguments (after --)")->required();
  cmd->add_option("-e,--env", args->env, "environment (replaces the spec's), KEY=VALUE");
  cmd->add_option("--cwd", args->cwd, "working directory inside the container");
  cmd->callback([&globals, &action, args] {
    action = [&globals, args] {
      return runtime::exec_in_container(globals.store(), args->id, args->command, args->env,
                                        args->cwd);
    };
  });
}

}  // namespace ckpt::cli
