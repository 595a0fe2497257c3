#include <fcntl.h>
#include <unistd.h>

#include "common/error.h"
#include "common/file_util.h"
#include "runtime/cli/command.h"

namespace ckpt::cli {

void add_logs_command(CLI::App& app, const Globals& globals, Action& action) {
  auto* cmd = with_example(app.add_subcommand("logs", "print the output of a detached container"),
                           "crun-ckpt logs counter");
  auto id = std::make_shared<std::string>();
  cmd->add_option("id", *id, "container id")->required();
  cmd->callback([&globals, &action, id] {
    action = [&globals, id] {
      runtime::StateStore store = globals.store();
      store.load(*id);
      UniqueFd fd;
      try {
        fd = open_file(store.log_path(*id), O_RDONLY);
      } catch (const Error&) {
        return 0;  // a foreground container has no log
      }
      char buf[65536];
      ssize_t n;
      while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) write_full(1, buf, n, "stdout");
      return 0;
    };
  });
}

}  // namespace ckpt::cli
