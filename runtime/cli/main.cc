// crun-ckpt: a container runtime built around checkpoint/restore.
#include <cstdio>

#include "common/error.h"
#include "runtime/cli/command.h"

int main(int argc, char** argv) {
  using namespace ckpt::cli;
  CLI::App app{"crun-ckpt: containers that can be checkpointed and restored", "crun-ckpt"};
  app.require_subcommand(1);
  Globals globals;
  app.add_option("--root", globals.root, "directory holding container state")
      ->capture_default_str();
  Action action;
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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return action ? action() : 0;
  } catch (const ckpt::Error& e) {
    std::fprintf(stderr, "crun-ckpt: %s\n", e.what());
    return e.exit_status();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "crun-ckpt: %s\n", e.what());
    return 1;
  }
}
