#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/file_util.h"
#include "runtime/container/lifecycle.h"
#include "runtime/container/mount_baseline.h"
#include "runtime/container/start.h"
#include "runtime/container/supervise.h"

namespace ckpt::runtime {

namespace {

int run_foreground(const StateStore& store, const config::ContainerSpec& spec,
                   const RunOptions& options) {
  ForwardedSignals signals;
  LaunchedContainer container = launch(spec, LaunchOptions{.id = spec.name});
  save_initial_mounts(store.dir(spec.name), container.initial_mountinfo());
  store.save(initial_state(spec, options, container, false));
  write_pid_file(options.pid_file, container.pid());
  int status = signals.wait_forwarding(container.pid());
  container.mark_reaped();
  // The init is reaped; everything else in its pid namespace was killed by the kernel. The
  // destructor of `container` removes cgroup and network, the guard the state directory.
  return exit_code_of(status);
}

int run_detached(const StateStore& store, const config::ContainerSpec& spec,
                 const RunOptions& options) {
  return start_detached(store, spec.name, [&] {
    LaunchedContainer container = launch(spec, LaunchOptions{.id = spec.name});
    save_initial_mounts(store.dir(spec.name), container.initial_mountinfo());
    store.save(initial_state(spec, options, container, true));
    write_pid_file(options.pid_file, container.pid());
    container.release();
    return container.pid();
  });
}

}  // namespace

int run_container(const StateStore& store, const config::ContainerSpec& spec,
                  const RunOptions& options) {
  preflight(spec);
  store.reserve(spec.name);
  StateDirGuard guard(store, spec.name);
  store.save_spec(spec.name, spec);
  int code = options.detach ? run_detached(store, spec, options) : run_foreground(store, spec, options);
  // A detached container keeps its state until `delete`; a foreground one is gone with it.
  if (options.detach) guard.keep();
  return code;
}

void monitor_container(const StateStore& store, const std::string& id, pid_t init) {
  int status = 0;
  try {
    status = wait_for_exit(init);
  } catch (...) {
    ::_exit(1);
  }
  try {
    store.save_exit(id, exit_code_of(status));
  } catch (...) {
    // Deleted while we waited: nothing to record.
  }
  ::_exit(0);
}

int exit_code_of(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

}  // namespace ckpt::runtime
