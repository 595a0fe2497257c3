#include "runtime/container/container_init.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstring>

#include "common/error.h"
#include "common/file_util.h"
#include "ns/namespaces.h"
#include "ns/rootfs.h"
#include "ns/uts.h"

namespace ckpt::runtime {

namespace {

[[noreturn]] void fail(const InitChannel& channel, const std::string& message, int status) {
  // Best effort: the parent reads this line and reports it; nothing else can be done here.
  ssize_t ignored = ::write(channel.error_fd, message.data(), message.size());
  (void)ignored;
  ::_exit(status);
}

void wait_for_parent(const InitChannel& channel) {
  char go = 0;
  ssize_t n;
  do n = ::read(channel.go_fd, &go, 1);
  while (n < 0 && errno == EINTR);
  // EOF without the byte: the parent gave up (and will kill us); leave quietly.
  if (n != 1) ::_exit(1);
  ::close(channel.go_fd);
}

void apply_rlimits(const config::ContainerSpec& spec) {
  for (const auto& rl : spec.rlimits) {
    struct rlimit value = {rl.soft, rl.hard};
    if (::setrlimit(rl.resource, &value) < 0) throw sys_error("rlimits." + rl.name + ": setrlimit");
  }
}

void switch_user(const config::ContainerSpec& spec) {
  const auto& user = spec.process.user;
  std::vector<gid_t> groups(user.additional_gids.begin(), user.additional_gids.end());
  // setgroups is refused in a user namespace whose setgroups file says deny; where it is
  // allowed it also drops the groups inherited from the runtime, which the namespace does not
  // map (they show as the overflow gid inside).
  if (ns::setgroups_allowed(spec) && ::setgroups(groups.size(), groups.data()) < 0)
    throw sys_error("process.user.additional_gids: setgroups");
  if (::setresgid(user.gid, user.gid, user.gid) < 0) throw sys_error("process.user.gid: setresgid");
  if (::setresuid(user.uid, user.uid, user.uid) < 0) throw sys_error("process.user.uid: setresuid");
  if (spec.process.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    throw sys_error("process.no_new_privileges");
}

// A child cloned into a new user namespace keeps the host ids it was created with, which its
// maps (written by the parent meanwhile) do not cover: files it creates would get EOVERFLOW.
// Switching to the namespace's root makes its ids the mapped ones.
void become_namespace_root() {
  if (::setresgid(0, 0, 0) < 0) throw sys_error("setresgid to the user namespace's root");
  if (::setresuid(0, 0, 0) < 0) throw sys_error("setresuid to the user namespace's root");
}

void install_stdio(const int stdio[3]) {
  for (int i = 0; i < 3; ++i) {
    if (stdio[i] < 0 || stdio[i] == i) continue;
    if (::dup2(stdio[i], i) < 0) throw sys_error("dup2 stdio");
  }
}

// The mount table as the workload will find it, for the parent to keep (InitChannel).
void record_mount_table(const InitChannel& channel) {
  std::string table = read_file("/proc/self/mountinfo");
  write_full(channel.mountinfo_fd, table.data(), table.size(), "record the mount table");
  ::close(channel.mountinfo_fd);
}

void unblock_all_signals() {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
}

}  // namespace

std::string resolve_program(const std::string& program, const std::vector<std::string>& env) {
  if (program.find('/') != std::string::npos) return ::access(program.c_str(), X_OK) == 0 ? program : "";
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  for (const auto& kv : env)
    if (kv.rfind("PATH=", 0) == 0) path = kv.substr(5);
  for (const auto& dir : split(path, ':')) {
    std::string candidate = dir + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

void container_init(const config::ContainerSpec& spec, const InitChannel& channel,
                    const LaunchOptions& options) {
  const std::function<int()>& init_main = options.init_main;
  try {
    // Die with the parent while setting up: a crashed launcher must not leave a half-made
    // container. Cleared before exec so the workload does not depend on the launcher.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    wait_for_parent(channel);
    if (spec.has(config::Namespace::user)) become_namespace_root();
    unblock_all_signals();
    install_stdio(options.stdio);
    if (spec.has(config::Namespace::uts)) {
      // A restore brings back the names the container had, not the spec's.
      if (options.uts)
        ns::set_uts_names(*options.uts);
      else
        ns::set_hostname(spec.hostname);
    }
    ns::setup_rootfs(spec);
    record_mount_table(channel);
    apply_rlimits(spec);
    if (init_main) {
      // Closing the error pipe tells the parent that set-up succeeded, as exec does otherwise.
      ::close(channel.error_fd);
      ::prctl(PR_SET_PDEATHSIG, 0);
      int status = init_main();
      ::_exit(status);
    }
    switch_user(spec);
    // Whatever the caller had open beyond stdio (its shell's, a CI runner's) must not reach
    // the workload: it would be a hole in the container and a leak a checkpoint must refuse.
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) throw sys_error("close_range");
    if (::chdir(spec.process.cwd.c_str()) < 0)
      throw sys_error("process.cwd: chdir " + spec.process.cwd);
    std::string program = resolve_program(spec.process.args[0], spec.process.env);
    if (program.empty())
      fail(channel,
           "exec " + spec.process.args[0] +
               ": not found in the container (process.args[0]; check the path or PATH in process.env)",
           127);
    std::vector<char*> argv, envp;
    for (const auto& a : spec.process.args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : spec.process.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    ::prctl(PR_SET_PDEATHSIG, 0);
    ::execve(program.c_str(), argv.data(), envp.data());
    fail(channel, "exec " + program + ": " + std::strerror(errno), errno == ENOENT ? 127 : 126);
  } catch (const std::exception& e) {
    fail(channel, e.what(), 1);
  }
}

}  // namespace ckpt::runtime
