#include <nlohmann/json.hpp>

#include "cgroup/cgroup.h"
#include "common/error.h"
#include "runtime/cli/command.h"
#include "runtime/task/proc.h"

namespace ckpt::cli {

void add_ps_command(CLI::App& app, const Globals& globals, Action& action) {
  auto* cmd = with_example(app.add_subcommand("ps", "list a container's processes"),
                           "crun-ckpt ps --json web1");
  struct Args {
    std::string id;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("id", args->id, "container id")->required();
  cmd->add_flag("--json", args->json, "print JSON");
  cmd->callback([&globals, &action, args] {
    action = [&globals, args] {
      globals.store().load(args->id);  // a clear error for an unknown id
      auto cg = cgroup::open(cgroup::detect_layout(), args->id);
      nlohmann::json out = nlohmann::json::array();
      if (!args->json) std::printf("%-8s %-8s %-8s %s\n", "PID", "CPID", "PPID", "CMD");
      for (pid_t pid : cg->processes()) {
        task::ProcStatus st;
        try {
          st = task::read_proc_status(pid);
        } catch (const Error&) {
          continue;  // exited meanwhile
        }
        if (args->json) {
          out.push_back({{"pid", pid}, {"container_pid", st.innermost_pid()},
                         {"ppid", st.ppid}, {"name", st.name}});
        } else {
          std::printf("%-8d %-8d %-8d %s\n", pid, st.innermost_pid(), st.ppid, st.name.c_str());
        }
      }
      if (args->json) std::printf("%s\n", out.dump().c_str());
      return 0;
    };
  });
}

}  // namespace ckpt::cli
