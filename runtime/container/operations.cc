#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "cgroup/cgroup.h"
#include "common/error.h"
#include "common/file_util.h"
#include "common/parse_number.h"
#include "ns/namespaces.h"
#include "runtime/container/container_init.h"
#include "runtime/container/lifecycle.h"
#include "runtime/container/supervise.h"

namespace ckpt::runtime {

namespace {

ContainerState load_live(const StateStore& store, const std::string& id, Status& status) {
  ContainerState state = store.load(id);
  status = current_status(store, state);
  return state;
}

ContainerState require_running(const StateStore& store, const std::string& id, const char* verb) {
  Status status;
  ContainerState state = load_live(store, id, status);
  if (status == Status::stopped || status == Status::broken)
    throw Error(std::string("cannot ") + verb + " container '" + id + "': it is " +
                    status_name(status),
                0, "`crun-ckpt delete " + id + "` removes it");
  if (status == Status::creating)
    throw Error(std::string("cannot ") + verb + " container '" + id +
                    "': it is still being created by pid " + std::to_string(state.creator_pid),
                0, "wait until `crun-ckpt state " + id + "` says running");
  return state;
}

// Signals the init through a pidfd, so a pid recycled since the state was read cannot be hit.
void signal_init(const ContainerState& state, int signal) {
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, state.pid, 0));
  if (pidfd < 0) throw sys_error("pidfd_open " + std::to_string(state.pid));
  UniqueFd owner(pidfd);
  if (process_start_time(state.pid) != state.start_time)
    throw Error("container '" + state.id + "' has stopped");
  if (::syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0) < 0)
    throw sys_error("send signal " + std::to_string(signal) + " to pid " + std::to_string(state.pid));
}

}  // namespace

int parse_signal(const std::string& text) {
  const std::string hint =
      "use a name like TERM or KILL, or a number from 1 to " + std::to_string(NSIG - 1);
  std::string name = text;
  if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos) {
    try {
      return parse_number<int>(name, "signal number", 1, NSIG - 1);
    } catch (Error& e) {
      throw e.with_hint(hint);
    }
  }
  for (auto& c : name) c = static_cast<char>(toupper(c));
  if (name.rfind("SIG", 0) == 0) name = name.substr(3);
  for (int sig = 1; sig < NSIG; ++sig) {
    const char* abbrev = ::sigabbrev_np(sig);
    if (abbrev != nullptr && name == abbrev) return sig;
  }
  throw Error("'" + text + "' is not a signal", 0, hint);
}

void kill_container(const StateStore& store, const std::string& id, int signal, bool all) {
  ContainerState state = require_running(store, id, "signal");
  if (!all) {
    signal_init(state, signal);
    return;
  }
  auto cg = cgroup::open(cgroup::detect_layout(), id);
  for (pid_t pid : cg->processes()) ::kill(pid, signal);
}

void pause_container(const StateStore& store, const std::string& id) {
  require_running(store, id, "pause");
  cgroup::open(cgroup::detect_layout(), id)->freeze();
}

void resume_container(const StateStore& store, const std::string& id) {
  require_running(store, id, "resume");
  cgroup::open(cgroup::detect_layout(), id)->thaw();
}

void wait_for_process_exit(pid_t pid, std::chrono::milliseconds timeout) {
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return;  // already gone
  UniqueFd owner(pidfd);
  pollfd pfd = {pidfd, POLLIN, 0};
  while (::poll(&pfd, 1, static_cast<int>(timeout.count())) < 0 && errno == EINTR) {
  }
}

int exec_in_container(const StateStore& store, const std::string& id,
                      const std::vector<std::string>& args, const std::vector<std::string>& env,
                      const std::string& cwd) {
  ContainerState state = require_running(store, id, "exec in");
  config::ContainerSpec spec = store.load_spec(id);
  auto cg = cgroup::open(cgroup::detect_layout(), id);
  // The joiner below enters the container's cgroup, and a task entering a frozen cgroup is
  // frozen at once (Documentation/admin-guide/cgroup-v2.rst, "cgroup.freeze"): exec would hang
  // silently until someone resumed the container. Refuse instead.
  if (cg->frozen())
    throw Error("cannot exec in container '" + id + "': it is paused", 0,
                "`crun-ckpt resume " + id + "` continues it; then run exec again");
  std::vector<std::string> environment = env.empty() ? spec.process.env : env;
  std::string dir = cwd.empty() ? spec.process.cwd : cwd;

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) throw sys_error("pipe");
  UniqueFd go_read(fds[0]), go_write(fds[1]);
  // The joiner enters the namespaces; its child is then inside the pid namespace too.
  pid_t joiner = ::fork();
  if (joiner < 0) throw sys_error("fork");
  if (joiner == 0) {
    go_write.reset();
    char byte;
    if (::read(go_read.get(), &byte, 1) != 1) ::_exit(1);
    try {
      ns::join_namespaces(state.pid, spec);
      pid_t child = ::fork();
      if (child < 0) throw sys_error("fork");
      if (child == 0) {
        // Whatever the caller had open beyond stdio (its shell's, a CI runner's) must not reach
        // the container, as for the init (container_init.cc): it would be a hole in the
        // container and a leak that makes every later checkpoint refuse.
        if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) throw sys_error("close_range");
        if (::chdir(dir.c_str()) < 0) throw sys_error("chdir " + dir);
        std::string program = resolve_program(args[0], environment);
        if (program.empty()) {
          std::fprintf(stderr, "crun-ckpt: exec %s: not found in the container\n", args[0].c_str());
          ::_exit(127);
        }
        std::vector<char*> argv, envp;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        for (const auto& e : environment) envp.push_back(const_cast<char*>(e.c_str()));
        envp.push_back(nullptr);
        ::execve(program.c_str(), argv.data(), envp.data());
        std::fprintf(stderr, "crun-ckpt: exec %s: %s\n", program.c_str(), std::strerror(errno));
        ::_exit(126);
      }
      ::_exit(exit_code_of(wait_for_exit(child)));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "crun-ckpt: exec in '%s': %s\n", id.c_str(), e.what());
      ::_exit(1);
    }
  }
  go_read.reset();
  try {
    cg->add_process(joiner);
  } catch (...) {
    ::kill(joiner, SIGKILL);
    wait_for_exit(joiner);
    throw;
  }
  char byte = 1;
  write_full(go_write.get(), &byte, 1, "exec start pipe");
  go_write.reset();
  return exit_code_of(wait_for_exit(joiner));
}

}  // namespace ckpt::runtime
