// join_namespaces: `crun-ckpt exec` enters a running container. One setns(2) on a pidfd with
// every flag moves the caller atomically, and the kernel orders the switch itself (user
// namespace first, so the other namespaces are entered with the container's capabilities).
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/error.h"
#include "common/unique_fd.h"
#include "ns/namespaces.h"

namespace ckpt::ns {
namespace {

struct NsFile {
  uint64_t flag;
  const char* name;  // in /proc/PID/ns
};

constexpr NsFile kNsFiles[] = {
    {CLONE_NEWUSER, "user"},     {CLONE_NEWNS, "mnt"},
    {CLONE_NEWNET, "net"},       {CLONE_NEWUTS, "uts"},
    {CLONE_NEWIPC, "ipc"},       {CLONE_NEWPID, "pid"},
    {CLONE_NEWCGROUP, "cgroup"}, {0x00000080 /* CLONE_NEWTIME */, "time"},
};

bool same_namespace(pid_t pid, const char* name) {
  struct stat mine {
  }, theirs{};
  std::string path = "/proc/" + std::to_string(pid) + "/ns/" + name;
  check_sys(stat(("/proc/self/ns/" + std::string(name)).c_str(), &mine),
            std::string("stat /proc/self/ns/") + name);
  check_sys(stat(path.c_str(), &theirs), "stat " + path);
  return mine.st_dev == theirs.st_dev && mine.st_ino == theirs.st_ino;
}

}  // namespace

void join_namespaces(pid_t pid, const config::ContainerSpec& spec) {
  with_context("join the namespaces of pid " + std::to_string(pid), [&] {
    // glibc 2.36's <sys/pidfd.h> lacks extern "C": call the syscall directly.
    UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
    if (!pidfd) throw sys_error("pidfd_open").with_hint("is the container still running?");
    // The kernel rejects entering a user namespace the caller is already in (EINVAL), so
    // namespaces the container shares with us are left out.
    uint64_t wanted = clone_flags(spec);
    uint64_t flags = 0;
    for (const auto& ns : kNsFiles) {
      if ((wanted & ns.flag) && !same_namespace(pid, ns.name)) flags |= ns.flag;
    }
    if (flags == 0) return;
    check_sys(setns(pidfd.get(), static_cast<int>(flags)), "setns");
  });
}

}  // namespace ckpt::ns
