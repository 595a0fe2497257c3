// The kernel side of NamespaceProbe: /proc for namespace identities and mount tables, and a
// thread inside the container's namespace for what only shows from there (ns/in_namespace.h).
#include "runtime/checkpoint/namespace_probe.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include "common/error.h"
#include "common/file_util.h"
#include "ns/in_namespace.h"

namespace ckpt::checkpoint {

namespace {

std::string read_link(const std::string& path) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  if (n < 0) {
    // A kernel without this kind of namespace (no time namespaces before 5.6) has no file: all
    // tasks then agree on "".
    if (errno == ENOENT) return "";
    throw sys_error("readlink " + path);
  }
  return std::string(buf, static_cast<size_t>(n));
}

// The POSIX message queues of the caller's IPC namespace. They live in that namespace's
// mqueue file system (ipc/mqueue.c keys the superblock by ipc namespace), which the container
// need not have mounted anywhere: a detached mount of our own (fsopen/fsmount, not attached to
// any mount tree) shows it.
std::vector<std::string> posix_queues_here() {
  UniqueFd fs(::fsopen("mqueue", FSOPEN_CLOEXEC));
  if (!fs) {
    if (errno == ENODEV) return {};  // no CONFIG_POSIX_MQUEUE: no queue can exist
    throw sys_error("fsopen mqueue");
  }
  check_sys(::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0), "fsconfig mqueue");
  UniqueFd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOEXEC));
  if (!mnt) throw sys_error("fsmount mqueue");
  int dir_fd = ::openat(mnt.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) throw sys_error("open the mqueue file system");
  DIR* dir = ::fdopendir(dir_fd);
  if (dir == nullptr) {
    ::close(dir_fd);
    throw sys_error("read the mqueue file system");
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(dir);
  return names;
}

class KernelNamespaceProbe : public NamespaceProbe {
 public:
  std::string namespace_of(pid_t host_pid, pid_t host_tid, std::string_view name) const override {
    return read_link("/proc/" + std::to_string(host_pid) + "/task/" + std::to_string(host_tid) +
                     "/ns/" + std::string(name));
  }
  std::string own_namespace(std::string_view name) const override {
    return read_link("/proc/self/ns/" + std::string(name));
  }
  std::string mountinfo(pid_t host_pid) const override {
    return read_file("/proc/" + std::to_string(host_pid) + "/mountinfo");
  }
  ns::UtsNames uts_names(pid_t host_pid) const override { return ns::read_uts_names(host_pid); }
  IpcListing ipc_objects(pid_t host_pid) const override {
    IpcListing out;
    with_context("read the IPC objects of pid " + std::to_string(host_pid), [&] {
      // /proc/sysvipc/* show the IPC namespace of the task that opens them (ipc/util.c,
      // sysvipc_proc_open), hence the reads from inside.
      ns::in_namespace_of(host_pid, CLONE_NEWIPC, [&] {
        out.sysvipc_shm = read_file("/proc/sysvipc/shm");
        out.sysvipc_sem = read_file("/proc/sysvipc/sem");
        out.sysvipc_msg = read_file("/proc/sysvipc/msg");
        out.posix_queues = posix_queues_here();
      });
    });
    return out;
  }
};

}  // namespace

std::unique_ptr<NamespaceProbe> kernel_namespace_probe() {
  return std::make_unique<KernelNamespaceProbe>();
}

}  // namespace ckpt::checkpoint
