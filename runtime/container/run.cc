#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/file_util.h"
#include "runtime/container/lifecycle.h"
#include "runtime/container/supervise.h"

namespace ckpt::runtime {

namespace {

// Removes the state directory unless the run got far enough to keep it.
class StateDirGuard {
 public:
  StateDirGuard(const StateStore& store, std::string id) : store_(store), id_(std::move(id)) {}
  ~StateDirGuard() {
    if (!keep_) {
      try {
        store_.remove(id_);
      } catch (...) {
      }
    }
  }
  void keep() { keep_ = true; }

 private:
  const StateStore& store_;
  std::string id_;
  bool keep_ = false;
};

ContainerState initial_state(const config::ContainerSpec& spec, const RunOptions& options,
                             LaunchedContainer& container, bool detached) {
  ContainerState state;
  state.id = spec.name;
  state.pid = container.pid();
  state.start_time = process_start_time(container.pid());
  state.created = now_iso8601();
  state.cgroup = container.cgroup().path();
  state.spec_path = options.spec_path;
  state.bundle = options.bundle;
  state.detached = detached;
  if (detached) state.monitor_pid = ::getpid();
  return state;
}

void write_pid_file(const std::string& path, pid_t pid) {
  if (!path.empty()) write_file_atomic(path, std::to_string(pid), 0644);
}

int run_foreground(const StateStore& store, const config::ContainerSpec& spec,
                   const RunOptions& options) {
  StateDirGuard guard(store, spec.name);
  store.save_spec(spec.name, spec);
  ForwardedSignals signals;
  LaunchedContainer container = launch(spec, LaunchOptions{.id = spec.name});
  store.save(initial_state(spec, options, container, false));
  write_pid_file(options.pid_file, container.pid());
  int status = signals.wait_forwarding(container.pid());
  container.mark_reaped();
  // The init is reaped; everything else in its pid namespace was killed by the kernel. The
  // destructor of `container` removes cgroup and network, the guard the state directory.
  return exit_code_of(status);
}

// The monitor: a small process that is the container init's parent, so that it alone reaps it
// and records how it ended. The container does not depend on it: if it is killed, the init is
// reparented and keeps running.
[[noreturn]] void become_monitor(const StateStore& store, const config::ContainerSpec& spec,
                                 const RunOptions& options, int ready_fd) {
  std::string message;
  pid_t init = 0;
  try {
    ::setsid();
    UniqueFd null = open_file("/dev/null", O_RDWR);
    UniqueFd log = open_file(store.log_path(spec.name), O_WRONLY | O_CREAT | O_APPEND, 0600);
    ::dup2(null.get(), 0);
    ::dup2(log.get(), 1);
    ::dup2(log.get(), 2);
    ::signal(SIGHUP, SIG_IGN);
    ::signal(SIGINT, SIG_IGN);
    ::signal(SIGPIPE, SIG_IGN);
    ::prctl(PR_SET_NAME, "crun-ckpt-mon");
    LaunchedContainer container = launch(spec, LaunchOptions{.id = spec.name});
    store.save(initial_state(spec, options, container, true));
    write_pid_file(options.pid_file, container.pid());
    container.release();
    init = container.pid();
  } catch (const std::exception& e) {
    message = e.what();
  }
  if (message.empty()) message = "ok";
  ssize_t ignored = ::write(ready_fd, message.data(), message.size());
  (void)ignored;
  ::close(ready_fd);
  if (init == 0) ::_exit(1);
  monitor_container(store, spec.name, init);
}

int run_detached(const StateStore& store, const config::ContainerSpec& spec,
                 const RunOptions& options) {
  StateDirGuard guard(store, spec.name);
  store.save_spec(spec.name, spec);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) throw sys_error("pipe");
  UniqueFd ready_read(fds[0]), ready_write(fds[1]);
  // Double fork: the monitor is not our child, so this command can exit at once.
  pid_t middle = ::fork();
  if (middle < 0) throw sys_error("fork");
  if (middle == 0) {
    ready_read.reset();
    pid_t monitor = ::fork();
    if (monitor == 0) become_monitor(store, spec, options, ready_write.release());
    ::_exit(monitor < 0 ? 1 : 0);
  }
  ready_write.reset();
  wait_for_exit(middle);
  std::string message;
  char buf[512];
  ssize_t n;
  while ((n = ::read(ready_read.get(), buf, sizeof buf)) > 0) message.append(buf, n);
  if (message != "ok") {
    // The monitor cleaned up the container itself; only the state directory is left to us.
    throw Error(message.empty() ? "the container monitor died while starting" : message);
  }
  guard.keep();
  return 0;
}

}  // namespace

int run_container(const StateStore& store, const config::ContainerSpec& spec,
                  const RunOptions& options) {
  preflight(spec);
  store.reserve(spec.name);
  return options.detach ? run_detached(store, spec, options) : run_foreground(store, spec, options);
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
