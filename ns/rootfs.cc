// setup_rootfs, in the container's first process (new mount and pid namespaces, before exec):
//  1. make every mount private, so nothing done here propagates to the host;
//  2. clone the rootfs (open_tree) and attach it over "/", then fchdir into it: absolute paths
//     still resolve in the old tree (the process root is unchanged), which is where bind
//     sources live, while the new tree is reached through a descriptor;
//  3. mount /proc, /dev, /sys and the spec's mounts into the new tree;
//  4. pivot_root(".", ".") and detach the old root stacked on top (pivot_root(2), NOTES);
//  5. make / read-only last, so mount points could still be created in step 3.
#include "ns/rootfs.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>

#include "common/error.h"
#include "common/file_util.h"
#include "common/parse_number.h"
#include "ns/mount_options.h"
#include "ns/rootfs_util.h"

namespace ckpt::ns {
namespace {

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa {
  }, sb{};
  check_sys(stat(a.c_str(), &sa), "stat " + a);
  check_sys(stat(b.c_str(), &sb), "stat " + b);
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

// The pid of the process that cloned us, as the /proc mount sees it. Still the host's /proc
// here, so the pid is translated into the host's pid namespace (getppid() would say 0 in a new
// pid namespace).
pid_t host_parent_pid() {
  const std::string path = "/proc/self/status";
  std::string status = read_file(path);
  pid_t ppid = 0;
  with_context(path, [&] {
    for_each_proc_field(status, [&](const std::string& key, const std::string& value) {
      if (key == "PPid") ppid = parse_number<pid_t>(value, "PPid");
    });
  });
  return ppid;
}

// Everything below changes the mount table: refuse to run in the mount namespace of the
// process that cloned us, where it would rearrange the runtime's (the host's) own mounts.
void require_own_mount_namespace() {
  pid_t parent = host_parent_pid();
  if (parent <= 0) return;  // cloned by a process outside our /proc's view: nothing to compare
  std::string parent_ns = "/proc/" + std::to_string(parent) + "/ns/mnt";
  // From a new user namespace the parent's (host-owned) namespace links cannot be inspected
  // (EACCES); a process that could not stat it did not share the parent's user namespace, so it
  // was cloned with new namespaces and there is nothing to guard against.
  struct stat st {};
  if (::stat(parent_ns.c_str(), &st) < 0 && errno == EACCES) return;
  if (same_file("/proc/self/ns/mnt", parent_ns))
    throw Error("setup_rootfs runs in the mount namespace of its parent", EINVAL,
                "clone the container with CLONE_NEWNS");
}

UniqueFd attach_new_root(const config::ContainerSpec& spec) {
  // Non-recursive: the container sees the rootfs file system, not the host's submounts of it.
  // In a new user namespace the submounts are locked to their parent and must come along.
  unsigned int flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC;
  if (spec.has(config::Namespace::user)) flags |= AT_RECURSIVE;
  UniqueFd tree(open_tree(AT_FDCWD, spec.rootfs.path.c_str(), flags));
  if (!tree) throw sys_error("clone the rootfs " + spec.rootfs.path);
  check_sys(move_mount(tree.get(), "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH),
            "attach the rootfs " + spec.rootfs.path);
  check_sys(fchdir(tree.get()), "enter the rootfs " + spec.rootfs.path);
  return tree;
}

void mount_sys(const NewRoot& root, bool own_netns) {
  UniqueFd target = mount_point(root, "/sys", true);
  if (own_netns) {
    // A sysfs instance shows the network devices of the mounter's network namespace.
    check_sys(mount("sysfs", fd_path(target).c_str(), "sysfs",
                    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr),
              "mount sysfs on /sys");
    return;
  }
  check_sys(mount("/sys", fd_path(target).c_str(), nullptr, MS_BIND | MS_REC, nullptr),
            "bind-mount the host's /sys on /sys");
  set_mount_attrs(root, "/sys", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, true);
}

void mount_bind(const NewRoot& root, const config::Mount& m, const MountOptions& opts) {
  if (!opts.data.empty())
    throw Error("unknown bind mount option(s) \"" + opts.data + "\"", EINVAL,
                "a bind mount takes ro, rw, nosuid, nodev, noexec, bind, rbind");
  struct stat st {};
  check_sys(stat(m.source.c_str(), &st), "bind source " + m.source);
  UniqueFd target = mount_point(root, m.destination, S_ISDIR(st.st_mode));
  unsigned long flags = MS_BIND | (opts.recursive ? MS_REC : 0);
  check_sys(mount(m.source.c_str(), fd_path(target).c_str(), nullptr, flags, nullptr),
            "bind " + m.source);
  // A bind mount ignores every flag but MS_REC: the attributes need a second step.
  set_mount_attrs(root, m.destination, opts.flags, opts.recursive);
  if (opts.propagation)
    check_sys(mount(nullptr, fd_path(open_in_root(root, m.destination)).c_str(), nullptr,
                    opts.propagation, nullptr),
              "set propagation");
}

void mount_other(const NewRoot& root, const config::Mount& m, const MountOptions& opts) {
  UniqueFd target = mount_point(root, m.destination, true);
  std::string source = m.source.empty() ? m.type : m.source;
  check_sys(mount(source.c_str(), fd_path(target).c_str(), m.type.c_str(), opts.flags,
                  opts.data.empty() ? nullptr : opts.data.c_str()),
            "mount");
  if (opts.propagation)
    check_sys(mount(nullptr, fd_path(open_in_root(root, m.destination)).c_str(), nullptr,
                    opts.propagation, nullptr),
              "set propagation");
}

void mount_spec_mounts(const NewRoot& root, const config::ContainerSpec& spec) {
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    const auto& m = spec.mounts[i];
    with_context(
        "mount " + m.type + " on " + m.destination + " (mounts[" + std::to_string(i) + "])", [&] {
          MountOptions opts = parse_mount_options(m.options);
          if (m.type == "bind")
            mount_bind(root, m, opts);
          else
            mount_other(root, m, opts);
        });
  }
}

void pivot_into_cwd() {
  // pivot_root(".", "."): the old root ends up stacked on the new one at "/", where a lazy
  // unmount removes it; no directory for the old root is needed in the rootfs.
  check_sys(static_cast<int>(syscall(SYS_pivot_root, ".", ".")), "pivot_root");
  check_sys(umount2(".", MNT_DETACH), "detach the old root");
  check_sys(chdir("/"), "chdir /");
}

}  // namespace

void setup_rootfs(const config::ContainerSpec& spec) {
  with_context("set up the rootfs " + spec.rootfs.path, [&] {
    require_own_mount_namespace();
    check_sys(mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr),
              "make the mount tree private");
    // Decided before attaching: afterwards "/" still names the host's root, but the check
    // must not depend on that.
    bool host_root = same_file(spec.rootfs.path, "/");
    UniqueFd tree = attach_new_root(spec);
    NewRoot root{tree.get(), !host_root};

    with_context("mount proc on /proc", [&] {
      UniqueFd target = mount_point(root, "/proc", true);
      // Mounted from inside the new pid namespace, so it shows the container's pids.
      check_sys(
          mount("proc", fd_path(target).c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr),
          "mount");
    });
    setup_dev(root, spec.has(config::Namespace::user));
    mount_sys(root, spec.has(config::Namespace::net));
    mount_spec_mounts(root, spec);

    pivot_into_cwd();
    if (spec.rootfs.readonly) {
      mount_attr attr{};
      attr.attr_set = MOUNT_ATTR_RDONLY;
      check_sys(mount_setattr(AT_FDCWD, "/", 0, &attr, sizeof attr), "make / read-only");
    }
  });
}

}  // namespace ckpt::ns
