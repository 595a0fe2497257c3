// The CLI: one file per verb. Each add_*_command() registers a CLI11 subcommand whose callback
// stores the action to run; main() runs it and turns a ckpt::Error into one line on stderr.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "runtime/container/state.h"

namespace ckpt::cli {

struct Globals {
  std::string root = "/run/crun-ckpt";
  runtime::StateStore store() const { return runtime::StateStore(root); }
};

// What the chosen subcommand does; returns the process exit status.
using Action = std::function<int()>;

// The whole command line of crun-ckpt: --root and every verb below (app.cc).
void add_commands(CLI::App& app, Globals& globals, Action& action);

void add_run_command(CLI::App& app, const Globals& globals, Action& action);
void add_list_command(CLI::App& app, const Globals& globals, Action& action);
void add_state_command(CLI::App& app, const Globals& globals, Action& action);
void add_ps_command(CLI::App& app, const Globals& globals, Action& action);
void add_kill_command(CLI::App& app, const Globals& globals, Action& action);
void add_pause_resume_commands(CLI::App& app, const Globals& globals, Action& action);
void add_exec_command(CLI::App& app, const Globals& globals, Action& action);
void add_logs_command(CLI::App& app, const Globals& globals, Action& action);
void add_delete_command(CLI::App& app, const Globals& globals, Action& action);
void add_checkpoint_command(CLI::App& app, const Globals& globals, Action& action);
void add_restore_command(CLI::App& app, const Globals& globals, Action& action);
void add_image_command(CLI::App& app, const Globals& globals, Action& action);

// Adds "Example:" text to a subcommand's --help.
inline CLI::App* with_example(CLI::App* cmd, const std::string& example) {
  cmd->footer("Example:\n  " + example);
  return cmd;
}

}  // namespace ckpt::cli
