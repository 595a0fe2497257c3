#include <nlohmann/json.hpp>

#include "common/error.h"
#include "ns/uts.h"
#include "runtime/cli/command.h"

namespace ckpt::cli {

void add_state_command(CLI::App& app, const Globals& globals, Action& action) {
  auto* cmd = with_example(app.add_subcommand("state", "print a container's state as JSON"),
                           "crun-ckpt state web1");
  auto id = std::make_shared<std::string>();
  cmd->add_option("id", *id, "container id")->required();
  cmd->callback([&globals, &action, id] {
    action = [&globals, id] {
      runtime::StateStore store = globals.store();
      runtime::ContainerState state = store.load(*id);
      runtime::Status status = runtime::current_status(store, state);
      nlohmann::json j = state.to_json();
      j["status"] = runtime::status_name(status);
      // OCI runtime-spec state fields, so OCI callers can read it as runc's.
      j["ociVersion"] = "1.0.2";
      if (status == runtime::Status::stopped) j["pid"] = 0;
      // The names as they are now, which the workload may have changed since the start.
      if (status != runtime::Status::stopped && store.load_spec(*id).has(config::Namespace::uts)) {
        try {
          ns::UtsNames uts = ns::read_uts_names(state.pid);
          j["hostname"] = uts.hostname;
          j["domainname"] = uts.domainname;
        } catch (const Error&) {
          // The init exited since its status was read: a stopped container has no names.
        }
      }
      std::printf("%s\n", j.dump(2).c_str());
      return 0;
    };
  });
}

}  // namespace ckpt::cli
