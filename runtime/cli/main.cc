// crun-ckpt: a container runtime built around checkpoint/restore.
#include <cstdio>

#include "common/error.h"
#include "runtime/cli/command.h"
#include "runtime/cli/usage.h"

int main(int argc, char** argv) {
  using namespace ckpt::cli;
  CLI::App app{"crun-ckpt: containers that can be checkpointed and restored", "crun-ckpt"};
  Globals globals;
  Action action;
  add_commands(app, globals, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help (and its kin) end parsing with a "success" error: print the help as usual.
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    std::fprintf(stderr, "%s\n", usage_error(app, e).c_str());
    return kUsageExitStatus;
  }
  try {
    globals.root = resolve_state_root(globals.root);
    return action ? action() : 0;
  } catch (const ckpt::Error& e) {
    std::fprintf(stderr, "crun-ckpt: %s\n", e.what());
    return e.exit_status();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "crun-ckpt: %s\n", e.what());
    return 1;
  }
}
