#include "runtime/cli/command.h"
#include "runtime/container/lifecycle.h"

namespace ckpt::cli {

void add_delete_command(CLI::App& app, const Globals& globals, Action& action) {
  auto* cmd = with_example(app.add_subcommand("delete", "remove a stopped container (-f: any)"),
                           "crun-ckpt delete -f web1");
  struct Args {
    std::string id;
    bool force = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("id", args->id, "container id")->required();
  cmd->add_flag("-f,--force", args->force, "kill it first if it is running or paused");
  cmd->callback([&globals, &action, args] {
    action = [&globals, args] {
      runtime::delete_container(globals.store(), args->id, args->force);
      std::printf("deleted %s\n", args->id.c_str());
      return 0;
    };
  });
}

}  // namespace ckpt::cli
