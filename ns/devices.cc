// The container's /dev: a fresh tmpfs holding only the devices a program expects to find
// (OCI runtime spec, "Default Devices"), a private devpts instance and /dev/shm.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/error.h"
#include "ns/rootfs.h"
#include "ns/rootfs_util.h"

namespace ckpt::ns {
namespace {

using Device = DefaultDevice;

constexpr Device kDevices[] = {
    {"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
    {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

constexpr const char* kLinks[][2] = {
    {"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},         {"core", "/proc/kcore"},
};

void mount_fs(const NewRoot& root, const std::string& path, const char* type, unsigned long flags,
              const char* data) {
  UniqueFd target = mount_point(root, path, true);
  check_sys(mount(type, fd_path(target).c_str(), type, flags, data),
            std::string("mount ") + type + " on " + path);
}

// A user namespace may not create device nodes (mknod needs CAP_MKNOD in the initial user
// namespace, and its tmpfs is nodev anyway): bind-mount the host's nodes onto empty files.
void add_device(int dev_dir, const Device& d, bool user_namespace) {
  std::string path = std::string("/dev/") + d.name;
  if (!user_namespace) {
    check_sys(mknodat(dev_dir, d.name, S_IFCHR | 0666, makedev(d.major, d.minor)), "mknod " + path);
    // mknod applies the umask.
    check_sys(fchmodat(dev_dir, d.name, 0666, 0), "chmod " + path);
    return;
  }
  UniqueFd file(openat(dev_dir, d.name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666));
  if (!file) throw sys_error("create " + path);
  std::string target = "/proc/self/fd/" + std::to_string(dev_dir) + "/" + d.name;
  check_sys(mount(path.c_str(), target.c_str(), nullptr, MS_BIND, nullptr),
            "bind-mount the host's " + path);
}

}  // namespace

std::span<const DefaultDevice> default_devices() {
  return kDevices;
}

void setup_dev(const NewRoot& root, bool user_namespace) {
  mount_fs(root, "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
  UniqueFd dev = open_in_root(root, "/dev");
  // O_PATH descriptors serve as dirfd for mknodat/openat/symlinkat.
  for (const auto& d : kDevices) add_device(dev.get(), d, user_namespace);
  for (const auto& link : kLinks) {
    check_sys(symlinkat(link[1], dev.get(), link[0]),
              std::string("symlink /dev/") + link[0] + " -> " + link[1]);
  }
  // Our own tmpfs: creating these never writes to the rootfs.
  for (const char* dir : {"pts", "shm"})
    check_sys(mkdirat(dev.get(), dir, 0755), std::string("mkdir /dev/") + dir);
  // newinstance: a devpts of its own, so the container's ptys are not the host's.
  mount_fs(root, "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
           "newinstance,ptmxmode=0666,mode=0620");
  mount_fs(root, "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k");
}

}  // namespace ckpt::ns
