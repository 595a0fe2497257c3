#include "runtime/cli/command.h"

namespace ckpt::cli {

void add_commands(CLI::App& app, Globals& globals, Action& action) {
  app.require_subcommand(1);
  app.add_option("--root", globals.root, "directory holding container state")
      ->capture_default_str();
  add_run_command(app, globals, action);
  add_list_command(app, globals, action);
  add_state_command(app, globals, action);
  add_ps_command(app, globals, action);
  add_kill_command(app, globals, action);
  add_pause_resume_commands(app, globals, action);
  add_exec_command(app, globals, action);
  add_logs_command(app, globals, action);
  add_delete_command(app, globals, action);
  add_checkpoint_command(app, globals, action);
  add_restore_command(app, globals, action);
  add_image_command(app, globals, action);
}

}  // namespace ckpt::cli
