// setup_rootfs in a real child in new mount/pid/net/uts/ipc/time namespaces: the child checks
// its view from inside and reports; the test asserts in the parent, and checks that nothing
// the child mounted shows up in the host's mount table.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

#include "common/error.h"
#include "harness.h"
#include "ns/namespaces.h"
#include "ns/rootfs.h"
#include "ns_child.h"

namespace ckpt::test {
namespace {

std::set<std::string> mountinfo_lines() {
  std::set<std::string> lines;
  std::istringstream in(slurp("/proc/self/mountinfo"));
  for (std::string line; std::getline(in, line);) {
    // Drop the mount id and parent id: a remount elsewhere must not look like a new line.
    lines.insert(line);
  }
  return lines;
}

std::string mount_point_of(const std::string& line) {
  std::istringstream in(line);
  std::string field;
  for (int i = 0; i < 5; ++i) in >> field;
  return field;
}

// Lines in the host's mountinfo that appeared since `before` and concern this test: a mount
// point the container mounts on, or a path of this test.
std::vector<std::string> leaked_mounts(const std::set<std::string>& before,
                                       const std::set<std::string>& watched_points,
                                       const std::vector<std::string>& watched_paths) {
  std::vector<std::string> leaked;
  for (const auto& line : mountinfo_lines()) {
    if (before.count(line)) continue;
    bool ours = watched_points.count(mount_point_of(line)) > 0;
    for (const auto& p : watched_paths) ours = ours || line.find(p) != std::string::npos;
    if (ours) leaked.push_back(line);
  }
  return leaked;
}

bool is_readonly(const char* path) {
  struct statvfs st {};
  return statvfs(path, &st) == 0 && (st.f_flag & ST_RDONLY);
}

long fs_type(const char* path) {
  struct statfs st {};
  return statfs(path, &st) == 0 ? static_cast<long>(st.f_type) : -1;
}

std::string errno_of_create(const std::string& path) {
  int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  if (fd >= 0) {
    close(fd);
    return "0";
  }
  return std::to_string(errno);
}

std::string list_dir(const char* path) {
  std::set<std::string> names;
  if (DIR* d = opendir(path)) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.insert(n);
    }
    closedir(d);
  }
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

// Runs setup_rootfs in a child and reports either "error=<message>" or "ready=1", then runs
// `checks` inside.
int rootfs_child(const config::ContainerSpec& spec, int fd,
                 const std::function<void(int)>& checks) {
  try {
    ns::setup_rootfs(spec);
  } catch (const Error& e) {
    report(fd, "error", e.what());
    return 1;
  }
  report(fd, "ready", "1");
  checks(fd);
  report(fd, "done", "1");
  return 0;
}

TEST(NsRootfs, HostRootReadOnlyWithMounts) {
  CKPT_REQUIRE_ROOT();
  for (const char* dir : {"/srv", "/media"}) {
    struct stat st {};
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) GTEST_SKIP() << dir << " missing on host";
  }
  TempDir shared("ckpt-ns-rw");
  TempDir readonly("ckpt-ns-ro");
  std::string probe = unique_name("ckpt-ns-probe");

  config::ContainerSpec spec;
  spec.rootfs = {"/", true};
  spec.mounts = {
      {"tmpfs", "", "/tmp", {"nosuid", "size=16m", "mode=1777"}},
      {"bind", shared.path(), "/srv", {"rbind", "rw"}},
      {"bind", readonly.path(), "/media", {"bind", "ro", "nosuid"}},
  };
  auto before = mountinfo_lines();

  NsChild child(ns::clone_flags(spec), [&](int fd, int) {
    return rootfs_child(spec, fd, [&](int fd) {
      report(fd, "pid", std::to_string(getpid()));
      char self[32] = {};
      report(fd, "proc_self", readlink("/proc/self", self, sizeof self - 1) > 0 ? self : "?");
      report(fd, "root_ro", is_readonly("/") ? "1" : "0");
      report(fd, "root_create", errno_of_create("/" + probe));
      report(fd, "tmp_tmpfs", fs_type("/tmp") == TMPFS_MAGIC ? "1" : "0");
      report(fd, "tmp_create", errno_of_create("/tmp/" + probe));
      std::ofstream("/srv/hello") << "from the container";
      report(fd, "media_create", errno_of_create("/media/" + probe));
      int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
      report(fd, "dev_null", null_fd >= 0 && write(null_fd, "abc", 3) == 3 ? "1" : "0");
      report(fd, "dev_pts", fs_type("/dev/pts") == DEVPTS_SUPER_MAGIC ? "1" : "0");
      int ptmx = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
      report(fd, "ptmx", ptmx >= 0 ? "1" : std::to_string(errno));
      report(fd, "dev", list_dir("/dev"));
      report(fd, "shm_tmpfs", fs_type("/dev/shm") == TMPFS_MAGIC ? "1" : "0");
      report(fd, "sys_ro", is_readonly("/sys") ? "1" : "0");
      report(fd, "sys_net", list_dir("/sys/class/net"));
    });
  });
  ASSERT_GT(child.pid(), 0) << "clone3: " << strerror(errno);
  auto r = child.read_report();
  EXPECT_EQ(child.wait(), 0);
  // Whatever happened, never leave a probe on the host's root.
  bool root_written = unlink(("/" + probe).c_str()) == 0;

  ASSERT_EQ(r.count("error"), 0u) << r["error"];
  ASSERT_EQ(r["done"], "1");
  EXPECT_EQ(r["pid"], "1");
  EXPECT_EQ(r["proc_self"], "1");
  EXPECT_EQ(r["root_ro"], "1");
  EXPECT_EQ(r["root_create"], std::to_string(EROFS));
  EXPECT_FALSE(root_written);
  EXPECT_EQ(r["tmp_tmpfs"], "1");
  EXPECT_EQ(r["tmp_create"], "0");
  EXPECT_NE(access(("/tmp/" + probe).c_str(), F_OK), 0) << "container /tmp leaked to host";
  EXPECT_EQ(slurp(shared.file("hello")), "from the container");
  EXPECT_EQ(r["media_create"], std::to_string(EROFS));
  EXPECT_EQ(r["dev_null"], "1");
  EXPECT_EQ(r["dev_pts"], "1");
  EXPECT_EQ(r["ptmx"], "1");
  EXPECT_EQ(r["dev"], "core,fd,full,null,ptmx,pts,random,shm,stderr,stdin,stdout,tty,urandom,zero");
  EXPECT_EQ(r["shm_tmpfs"], "1");
  EXPECT_EQ(r["sys_ro"], "1");
  EXPECT_EQ(r["sys_net"], "lo");  // sysfs of the container's own network namespace

  auto leaked = leaked_mounts(
      before, {"/", "/proc", "/dev", "/dev/pts", "/dev/shm", "/sys", "/tmp", "/srv", "/media"},
      {shared.path(), readonly.path()});
  EXPECT_TRUE(leaked.empty()) << leaked.front();
}

TEST(NsRootfs, OwnRootfsDirectoryCreatesMountPoints) {
  CKPT_REQUIRE_ROOT();
  TempDir rootfs("ckpt-ns-rootfs");
  TempDir host("ckpt-ns-src");
  std::string source = host.write("file", "bound file");

  config::ContainerSpec spec;
  spec.rootfs = {rootfs.path(), true};
  spec.mounts = {
      {"tmpfs", "", "/data/deep", {"size=1m"}},
      {"bind", source, "/etc/hostfile", {"ro"}},
  };
  auto before = mountinfo_lines();
  NsChild child(ns::clone_flags(spec), [&](int fd, int) {
    return rootfs_child(spec, fd, [&](int fd) {
      report(fd, "pid", std::to_string(getpid()));
      report(fd, "root_ro", is_readonly("/") ? "1" : "0");
      report(fd, "deep_tmpfs", fs_type("/data/deep") == TMPFS_MAGIC ? "1" : "0");
      std::ifstream in("/etc/hostfile");
      std::string text;
      std::getline(in, text);
      report(fd, "hostfile", text);
      report(fd, "hostfile_ro", is_readonly("/etc/hostfile") ? "1" : "0");
      report(fd, "root", list_dir("/"));
    });
  });
  ASSERT_GT(child.pid(), 0) << "clone3: " << strerror(errno);
  auto r = child.read_report();
  EXPECT_EQ(child.wait(), 0);
  ASSERT_EQ(r.count("error"), 0u) << r["error"];
  ASSERT_EQ(r["done"], "1");
  EXPECT_EQ(r["pid"], "1");
  EXPECT_EQ(r["root_ro"], "1");
  EXPECT_EQ(r["deep_tmpfs"], "1");
  EXPECT_EQ(r["hostfile"], "bound file");
  EXPECT_EQ(r["hostfile_ro"], "1");
  EXPECT_EQ(r["root"], "data,dev,etc,proc,sys");
  // The mount points were created in the rootfs directory, not elsewhere on the host.
  struct stat st {};
  EXPECT_EQ(stat(rootfs.file("data/deep").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(stat(rootfs.file("etc/hostfile").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  auto leaked = leaked_mounts(before, {}, {rootfs.path(), host.path()});
  EXPECT_TRUE(leaked.empty()) << leaked.front();
}

TEST(NsRootfs, MissingMountPointOnHostRootIsRefusedNamingTheMount) {
  CKPT_REQUIRE_ROOT();
  std::string missing = "/" + unique_name("ckpt-ns-missing");
  config::ContainerSpec spec;
  spec.rootfs = {"/", true};
  spec.mounts = {{"tmpfs", "", "/tmp", {}}, {"tmpfs", "", missing, {"size=1m"}}};
  NsChild child(ns::clone_flags(spec),
                [&](int fd, int) { return rootfs_child(spec, fd, [](int) {}); });
  ASSERT_GT(child.pid(), 0) << "clone3: " << strerror(errno);
  auto r = child.read_report();
  EXPECT_EQ(child.wait(), 1);
  bool created = rmdir(missing.c_str()) == 0;
  EXPECT_FALSE(created) << "setup_rootfs wrote to the host's root";
  EXPECT_NE(r["error"].find("mount tmpfs on " + missing + " (mounts[1])"), std::string::npos)
      << r["error"];
  EXPECT_NE(r["error"].find("does not exist"), std::string::npos) << r["error"];
}

TEST(NsRootfs, RefusesToRunInTheHostMountNamespace) {
  CKPT_REQUIRE_ROOT();
  config::ContainerSpec spec;
  // A child without CLONE_NEWNS: setup_rootfs must refuse before touching any mount.
  NsChild child(CLONE_NEWPID, [&](int fd, int) { return rootfs_child(spec, fd, [](int) {}); });
  ASSERT_GT(child.pid(), 0) << "clone3: " << strerror(errno);
  auto r = child.read_report();
  EXPECT_EQ(child.wait(), 1);
  EXPECT_NE(r["error"].find("mount namespace of its parent"), std::string::npos) << r["error"];
}

}  // namespace
}  // namespace ckpt::test
