#include "runtime/cli/command.h"
#include "runtime/container/lifecycle.h"

namespace ckpt::cli {

void add_kill_command(CLI::App& app, const Globals& globals, Action& action) {
  auto* cmd = with_example(app.add_subcommand("kill", "send a signal to a container (default TERM)"),
                           "crun-ckpt kill web1 KILL");
  struct Args {
    std::string id;
    std::string signal = "TERM";
    bool all = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("id", args->id, "container id")->required();
  cmd->add_option("signal", args->signal, "signal name or number")->capture_default_str();
  cmd->add_flag("-a,--all", args->all, "signal every process of the container, not only its init");
  cmd->callback([&globals, &action, args] {
    action = [&globals, args] {
      runtime::kill_container(globals.store(), args->id, runtime::parse_signal(args->signal),
                              args->all);
      std::printf("sent %s to %s\n", args->signal.c_str(), args->id.c_str());
      return 0;
    };
  });
}

}  // namespace ckpt::cli
