// `crun-ckpt delete`: removes whatever exists of a container, in any state. A container whose
// `run` or `restore` was killed half-way is as deletable as a stopped one: its state directory
// was published before anything else was created (state.h), so cgroups, veths and bridges are
// found from its id and spec, and the directory goes last, so a killed delete can be repeated.
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <chrono>

#include "common/error.h"
#include "common/file_lock.h"
#include "runtime/container/launcher.h"
#include "runtime/container/lifecycle.h"

namespace ckpt::runtime {

namespace {

using Clock = std::chrono::steady_clock;

// SIGKILL through a pidfd, only if `pid` is still the process that started at `start_time`.
void kill_exact(pid_t pid, unsigned long long start_time) {
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return;  // gone
  UniqueFd owner(pidfd);
  if (process_start_time(pid) != start_time) return;  // recycled: not ours to kill
  ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
}

// Stops whoever is still creating `id` (a `run`, a `restore`, the monitor that took over from
// them) and returns the creator lock, now held by us: nothing can be adding to the container
// while it is removed. The creator is re-read each round because a monitor records itself
// after its parent, which we may have killed first. Gives up after a bound: the teardown then
// still kills everything inside the container's cgroup.
UniqueFd stop_creator(const StateStore& store, const std::string& id) {
  auto deadline = Clock::now() + std::chrono::seconds(10);
  for (;;) {
    UniqueFd lock = try_lock_file(store.creator_lock_path(id));
    if (lock || Clock::now() > deadline) return lock;
    try {
      ContainerState state = store.load(id);
      if (state.creating) kill_exact(state.creator_pid, state.creator_start_time);
    } catch (const Error&) {
      // state.json being replaced right now: look again.
    }
    struct timespec nap = {0, 10'000'000};
    ::nanosleep(&nap, nullptr);
  }
}

}  // namespace

void delete_container(const StateStore& store, const std::string& id, bool force) {
  ContainerState state;
  Status status = Status::broken;
  if (!store.exists(id)) {
    // A creator killed before publishing leaves only a hidden staging directory.
    store.remove_stale_staging(id);
    store.load(id);  // throws "does not exist"
  }
  try {
    state = store.load(id);
    status = current_status(store, state);
  } catch (const Error&) {
    if (!force) throw;
    state = ContainerState{};
    state.id = id;  // an unreadable record: remove what the id leads to
  }
  if (status != Status::stopped && status != Status::broken && !force)
    throw Error("container '" + id + "' is " + status_name(status), 0,
                "stop it first (`crun-ckpt kill " + id + " KILL`) or use `delete -f`");
  UniqueFd creator = stop_creator(store, id);
  config::ContainerSpec spec;
  try {
    spec = store.load_spec(id);
  } catch (const std::exception&) {
    // Unreadable: the default spec has no interfaces, so only what the id alone names (the
    // cgroup) is removed.
  }
  teardown(id, spec, store.root());
  // The monitor records the exit into the state directory as the init dies: let it finish
  // before the directory goes, or the two race.
  if (state.detached && state.monitor_pid > 0) wait_for_process_exit(state.monitor_pid);
  store.remove(id);
  store.remove_stale_staging(id);
}

}  // namespace ckpt::runtime
