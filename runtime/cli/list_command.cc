#include <nlohmann/json.hpp>

#include "common/error.h"
#include "runtime/cli/command.h"

namespace ckpt::cli {

void add_list_command(CLI::App& app, const Globals& globals, Action& action) {
  auto* cmd = with_example(app.add_subcommand("list", "list containers"), "crun-ckpt list --json");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "print a JSON array");
  cmd->callback([&globals, &action, json] {
    action = [&globals, json] {
      runtime::StateStore store = globals.store();
      nlohmann::json out = nlohmann::json::array();
      if (!*json) std::printf("%-24s %-8s %-8s %s\n", "ID", "PID", "STATUS", "CREATED");
      for (const auto& id : store.list()) {
        runtime::ContainerState state;
        runtime::Status status = runtime::Status::broken;
        try {
          state = store.load(id);
          status = runtime::current_status(store, state);
        } catch (const Error&) {
          // Deleted meanwhile, or a record that cannot be read: `delete -f` removes the latter.
          if (!store.exists(id)) continue;
          state = runtime::ContainerState{};
          state.id = id;
        }
        if (*json) {
          nlohmann::json j = state.to_json();
          j["status"] = runtime::status_name(status);
          out.push_back(j);
        } else {
          bool runs = status == runtime::Status::running || status == runtime::Status::paused;
          std::printf("%-24s %-8d %-8s %s\n", id.c_str(), runs ? state.pid : 0,
                      runtime::status_name(status), state.created.c_str());
        }
      }
      if (*json) std::printf("%s\n", out.dump().c_str());
      return 0;
    };
  });
}

}  // namespace ckpt::cli
