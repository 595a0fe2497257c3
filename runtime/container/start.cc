#include "runtime/container/start.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/file_util.h"
#include "common/parse_number.h"
#include "runtime/container/supervise.h"

namespace ckpt::runtime {

StateDirGuard::~StateDirGuard() {
  if (keep_) return;
  try {
    store_.remove(id_);
  } catch (...) {
  }
}

ContainerState creating_state(const config::ContainerSpec& spec, const RunOptions& options) {
  ContainerState state;
  state.id = spec.name;
  state.created = now_iso8601();
  state.spec_path = options.spec_path;
  state.bundle = options.bundle;
  state.detached = options.detach;
  state.creating = true;
  state.creator_pid = ::getpid();
  state.creator_start_time = process_start_time(state.creator_pid);
  return state;
}

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
  state.creator_pid = ::getpid();
  state.creator_start_time = process_start_time(state.creator_pid);
  if (detached) state.monitor_pid = ::getpid();
  // The container inherited our stdio (launch passes it through).
  for (int fd = 0; fd <= 2; ++fd) {
    struct stat st;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
      state.stdio_files.emplace_back(st.st_dev, st.st_ino);
  }
  return state;
}

void write_pid_file(const std::string& path, pid_t pid) {
  if (!path.empty()) write_file_atomic(path, std::to_string(pid), 0644);
}

namespace {

// The monitor: a small process that is the container init's parent, so that it alone reaps it
// and records how it ended. The container does not depend on it: if it is killed, the init is
// reparented and keeps running.
// The monitor carries on the creation: `delete -f` must find and stop it, not the command
// that forked it and may be gone.
void take_over_creation(const StateStore& store, const std::string& id) {
  ContainerState state = store.load(id);
  state.creator_pid = ::getpid();
  state.creator_start_time = process_start_time(state.creator_pid);
  store.save(state);
}

[[noreturn]] void become_monitor(const StateStore& store, const std::string& id, int creator_lock,
                                 const std::function<pid_t()>& start, int ready_fd) {
  std::string message;
  pid_t init = 0;
  try {
    ::setsid();
    take_over_creation(store, id);
    UniqueFd null = open_file("/dev/null", O_RDWR);
    UniqueFd log = open_file(store.log_path(id), O_WRONLY | O_CREAT | O_APPEND, 0600);
    ::dup2(null.get(), 0);
    ::dup2(log.get(), 1);
    ::dup2(log.get(), 2);
    ::signal(SIGHUP, SIG_IGN);
    ::signal(SIGINT, SIG_IGN);
    ::signal(SIGPIPE, SIG_IGN);
    ::prctl(PR_SET_NAME, "crun-ckpt-mon");
    init = start();
  } catch (const Error& e) {
    message = e.what();
    if (e.exit_status() != 1) message = std::to_string(e.exit_status()) + ":" + message;
  } catch (const std::exception& e) {
    message = e.what();
  }
  if (message.empty()) message = "ok";
  // Created (the state names the init) or failed (and cleaned up): either way no longer the
  // creator. The lock must not stay held for the monitor's whole life.
  ::close(creator_lock);
  ssize_t ignored = ::write(ready_fd, message.data(), message.size());
  (void)ignored;
  ::close(ready_fd);
  if (init == 0) ::_exit(1);
  monitor_container(store, id, init);
}

}  // namespace

int start_detached(const StateStore& store, const std::string& id, int creator_lock,
                   const std::function<pid_t()>& start) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) throw sys_error("pipe");
  UniqueFd ready_read(fds[0]), ready_write(fds[1]);
  // Double fork: the monitor is not our child, so this command can exit at once.
  pid_t middle = ::fork();
  if (middle < 0) throw sys_error("fork");
  if (middle == 0) {
    ready_read.reset();
    pid_t monitor = ::fork();
    if (monitor == 0) become_monitor(store, id, creator_lock, start, ready_write.release());
    ::_exit(monitor < 0 ? 1 : 0);
  }
  ready_write.reset();
  wait_for_exit(middle);
  std::string message;
  char buf[512];
  ssize_t n;
  while ((n = ::read(ready_read.get(), buf, sizeof buf)) > 0) message.append(buf, n);
  if (message == "ok") return 0;
  if (message.empty()) throw Error("the container monitor died while starting the container");
  // "127:text" carries the exit status of a failed exec.
  int status = 1;
  size_t colon = message.find(':');
  if (colon != std::string::npos && colon <= 3 &&
      message.find_first_not_of("0123456789") == colon) {
    status = parse_number<int>(std::string_view(message).substr(0, colon), "exit status", 0, 255);
    message = message.substr(colon + 1);
  }
  throw Error(message).with_exit_status(status);
}

}  // namespace ckpt::runtime
