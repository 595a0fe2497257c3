#include "common/error.h"
#include "config/parse_values.h"
#include "config/spec_yaml.h"
#include "runtime/cli/command.h"
#include "runtime/container/lifecycle.h"

namespace ckpt::cli {

void add_run_command(CLI::App& app, const Globals& globals, Action& action) {
  auto* cmd = with_example(
      app.add_subcommand("run", "start a container from a YAML spec (the demo counter if none)"),
      "crun-ckpt run -d examples/counter.yaml");
  struct Args {
    std::string spec_path;
    std::string name;
    std::string pid_file;
    bool detach = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("spec", args->spec_path, "spec.yaml (default: the embedded counter demo)");
  cmd->add_flag("-d,--detach", args->detach, "run in the background; output goes to `logs`");
  cmd->add_option("--name", args->name, "container id (default: the spec's name)");
  cmd->add_option("--pid-file", args->pid_file, "write the container init's host pid here");
  cmd->callback([&globals, &action, args] {
    action = [&globals, args] {
      config::ContainerSpec spec =
          args->spec_path.empty()
              ? config::parse_spec_yaml(config::default_spec_yaml(), "counter.yaml")
              : config::load_spec_yaml(args->spec_path);
      if (!args->name.empty()) {
        with_context("--name", [&] { config::check_container_id(args->name); });
        spec.name = args->name;
      }
      runtime::RunOptions options{.detach = args->detach,
                                  .spec_path = args->spec_path,
                                  .pid_file = args->pid_file};
      int code = runtime::run_container(globals.store(), spec, options);
      if (args->detach) std::printf("%s\n", spec.name.c_str());
      return code;
    };
  });
}

}  // namespace ckpt::cli
