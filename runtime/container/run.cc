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

LaunchOptions launch_options(const StateStore& store, const config::ContainerSpec& spec) {
  return LaunchOptions{.id = spec.name, .root = store.root()};
}

int run_foreground(const StateStore& store, const config::ContainerSpec& spec,
                   const RunOptions& options, UniqueFd& creator_lock) {
  ForwardedSignals signals;
  LaunchedContainer container = launch(spec, launch_options(store, spec));
  save_initial_mounts(store.dir(spec.name), container.initial_mountinfo());
  store.save(initial_state(spec, options, container, false));
  creator_lock.reset();  // created: the record names the init from now on
  write_pid_file(options.pid_file, container.pid());
  int status = signals.wait_forwarding(container.pid());
  container.mark_reaped();
  // The init is reaped; everything else in its pid namespace was killed by the kernel. The
  // destructor of `container` removes cgroup and network, the guard the state directory.
  return exit_code_of(status);
}

int run_detached(const StateStore& store, const config::ContainerSpec& spec,
                 const RunOptions& options, const UniqueFd& creator_lock) {
  return start_detached(store, spec.name, creator_lock.get(), [&] {
    LaunchedContainer container = launch(spec, launch_options(store, spec));
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
  store.refuse_existing(spec.name);  // before the network check, which would name it too
  preflight(spec, launch_options(store, spec));
  // From here a kill leaves a record `list` shows and `delete -f` removes (state.h).
  UniqueFd creator_lock = store.create(creating_state(spec, options), spec);
  StateDirGuard guard(store, spec.name);
  int code = options.detach ? run_detached(store, spec, options, creator_lock)
                            : run_foreground(store, spec, options, creator_lock);
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
