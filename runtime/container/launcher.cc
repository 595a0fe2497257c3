#include "runtime/container/launcher.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "common/error.h"
#include "common/file_util.h"
#include "ns/namespaces.h"
#include "ns/network.h"
#include "runtime/container/container_init.h"

namespace ckpt::runtime {

namespace {

struct Pipe {
  UniqueFd read, write;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) throw sys_error("pipe");
    read.reset(fds[0]);
    write.reset(fds[1]);
  }
};

pid_t clone3_process(uint64_t flags) {
  struct clone_args args;
  std::memset(&args, 0, sizeof args);
  args.flags = flags;
  args.exit_signal = SIGCHLD;
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0) throw sys_error("clone3 into new namespaces");
  return static_cast<pid_t>(pid);
}

// The time namespace is entered by children of a process that unshared it, and its offsets can
// only be written before any process is inside: so unshare here and write them, then clone.
void prepare_time_namespace(const LaunchOptions& options) {
  if (::unshare(CLONE_NEWTIME) < 0) throw sys_error("unshare time namespace");
  if (!options.time_offsets) return;
  // The kernel wants 0 <= nanoseconds < 1e9, so negative offsets round the seconds down.
  auto line = [](const char* clock, long long ns) {
    long long sec = ns / 1000000000LL;
    long long nsec = ns % 1000000000LL;
    if (nsec < 0) {
      sec -= 1;
      nsec += 1000000000LL;
    }
    return std::string(clock) + " " + std::to_string(sec) + " " + std::to_string(nsec) + "\n";
  };
  write_existing("/proc/self/timens_offsets",
                 line("monotonic", options.time_offsets->monotonic_ns) +
                     line("boottime", options.time_offsets->boottime_ns));
}

// Everything the child wrote to the (shared) memfd, from the start.
std::string read_back(const UniqueFd& fd) {
  std::string out;
  char buf[4096];
  for (off_t at = 0;;) {
    ssize_t n = ::pread(fd.get(), buf, sizeof buf, at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw sys_error("read the container's initial mount table");
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
    at += n;
  }
}

void kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, nullptr, __WALL) < 0 && errno == EINTR) {
  }
}

}  // namespace

LaunchedContainer::LaunchedContainer(ns::NetworkOwner owner, config::ContainerSpec spec, pid_t pid,
                                     std::unique_ptr<cgroup::Cgroup> cgroup)
    : owner_(std::move(owner)), spec_(std::move(spec)), pid_(pid), cgroup_(std::move(cgroup)) {}

LaunchedContainer::~LaunchedContainer() {
  if (released_ || !cgroup_) return;
  try {
    cgroup_->kill_all(SIGKILL);
  } catch (...) {
  }
  if (pid_ > 0) kill_and_reap(pid_);
  if (network_up_) {
    try {
      ns::teardown_network(spec_, owner_);
    } catch (...) {
    }
  }
  try {
    cgroup_->destroy();
  } catch (...) {
  }
}

void preflight(const config::ContainerSpec& spec, const LaunchOptions& options) {
  if (::geteuid() != 0 && !spec.has(config::Namespace::user))
    throw Error("crun-ckpt needs root to create namespaces and cgroups", EPERM,
                "run it as root, or add `user` to namespaces in the spec");
  for (const auto& rl : spec.rlimits) {
    struct rlimit mine;
    if (::getrlimit(rl.resource, &mine) < 0) throw sys_error("getrlimit " + rl.name);
    if (mine.rlim_max != RLIM_INFINITY && rl.hard > mine.rlim_max)
      throw Error("rlimits." + rl.name + ": hard limit " + std::to_string(rl.hard) +
                      " is above this caller's hard limit " + std::to_string(mine.rlim_max),
                  0,
                  "raising it needs CAP_SYS_RESOURCE, which this caller lacks; lower it in the spec");
  }
  if (spec.has(config::Namespace::net) && !options.network_detached) {
    // As launch() words it when the same check, under the host network lock, refuses there.
    with_context("start container '" + options.id + "'", [&] {
      ns::check_network_identities(spec, ns::NetworkOwner{options.id, options.root},
                                   options.start_kind);
    });
  }
  // The program is not looked up here: the container sees it through its own mounts (a bind
  // mount at /data, a tmpfs over /usr/local...), which the host's view of the rootfs does not
  // show. container_init.cc looks it up inside, after the mount tree is built, and a missing
  // program fails there with one line and exit status 127, leaving nothing behind.
}

LaunchedContainer launch(const config::ContainerSpec& spec, const LaunchOptions& options) {
  Pipe go, error;
  UniqueFd mountinfo(::memfd_create("crun-ckpt-mountinfo", MFD_CLOEXEC));
  if (!mountinfo) throw sys_error("memfd_create");
  auto cg = cgroup::create(cgroup::detect_layout(), options.id);
  if (spec.has(config::Namespace::time)) prepare_time_namespace(options);
  uint64_t flags = ns::clone_flags(spec) & ~static_cast<uint64_t>(CLONE_NEWTIME);
  pid_t pid;
  try {
    pid = clone3_process(flags);
  } catch (...) {
    cg->destroy();
    throw;
  }
  if (pid == 0) {
    go.write.reset();
    error.read.reset();
    InitChannel channel{go.read.get(), error.write.get(), mountinfo.get()};
    container_init(spec, channel, options);
  }
  go.read.reset();
  error.write.reset();
  ns::NetworkOwner owner{options.id, options.root};
  LaunchedContainer container(owner, spec, pid, std::move(cg));
  with_context("start container '" + options.id + "'", [&] {
    container.cgroup().add_process(pid);
    container.cgroup().apply(spec.resources);
    if (spec.has(config::Namespace::user)) ns::write_id_maps(pid, spec);
    if (spec.has(config::Namespace::net) && options.network_detached) {
      ns::setup_detached_network(spec, pid);  // dies with the namespace: nothing to tear down
    } else if (spec.has(config::Namespace::net)) {
      container.set_network_up();
      ns::setup_network(spec, owner, pid, options.start_kind);
    }
    char byte = 1;
    write_full(go.write.get(), &byte, 1, "start pipe");
    go.write.reset();
    // The error pipe closes on exec (O_CLOEXEC) or carries the reason the start failed.
    std::string message;
    char buf[512];
    for (;;) {
      ssize_t n = ::read(error.read.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      message.append(buf, static_cast<size_t>(n));
    }
    if (!message.empty()) {
      int status = 0;
      ::waitpid(pid, &status, 0);
      int code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
      throw Error(message).with_exit_status(code == 127 || code == 126 ? code : 1);
    }
    container.set_initial_mountinfo(read_back(mountinfo));
  });
  return container;
}

void teardown(const std::string& id, const config::ContainerSpec& spec, const std::string& root) {
  auto layout = cgroup::detect_layout();
  std::unique_ptr<cgroup::Cgroup> cg;
  try {
    cg = cgroup::open(layout, id);
  } catch (const Error&) {
  }
  if (cg) {
    cg->kill_all(SIGKILL);
  }
  if (spec.has(config::Namespace::net)) ns::teardown_network(spec, ns::NetworkOwner{id, root});
  if (cg) cg->destroy();
}

}  // namespace ckpt::runtime
