#include "runtime/cli/command.h"
#include "runtime/container/lifecycle.h"

namespace ckpt::cli {

void add_pause_resume_commands(CLI::App& app, const Globals& globals, Action& action) {
  auto* pause = with_example(app.add_subcommand("pause", "freeze every process of a container"),
                             "crun-ckpt pause web1");
  auto* resume = with_example(app.add_subcommand("resume", "thaw a paused container"),
                              "crun-ckpt resume web1");
  auto pause_id = std::make_shared<std::string>();
  auto resume_id = std::make_shared<std::string>();
  pause->add_option("id", *pause_id, "container id")->required();
  resume->add_option("id", *resume_id, "container id")->required();
  pause->callback([&globals, &action, pause_id] {
    action = [&globals, pause_id] {
      runtime::pause_container(globals.store(), *pause_id);
      std::printf("paused %s\n", pause_id->c_str());
      return 0;
    };
  });
  resume->callback([&globals, &action, resume_id] {
    action = [&globals, resume_id] {
      runtime::resume_container(globals.store(), *resume_id);
      std::printf("resumed %s\n", resume_id->c_str());
      return 0;
    };
  });
}

}  // namespace ckpt::cli
