// Layout detection from mountinfo text and the hierarchies a container cgroup spans.
#include <gtest/gtest.h>

#include "cgroup/cgroup.h"
#include "cgroup/hierarchy.h"
#include "common/error.h"

namespace ckpt::cgroup {
namespace {

// A systemd host with only cgroup v2.
constexpr const char* kPureV2 =
    "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
    "25 23 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n"
    "26 23 0:24 / /sys/fs/bpf rw,nosuid,nodev,noexec,relatime shared:5 - bpf bpf rw,mode=700\n";

// This CI machine: v1 controllers, v2 at /sys/fs/cgroup/unified, a named systemd hierarchy.
constexpr const char* kHybrid =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

// Debian-style hybrid with cpu and cpuacct on one mount, and optional fields before "-".
constexpr const char* kCoMounted =
    "30 25 0:26 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
    "33 25 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:14 - cgroup cgroup rw,cpu,cpuacct\n"
    "34 25 0:30 / /sys/fs/cgroup/freezer rw,nosuid shared:15 - cgroup cgroup rw,freezer\n";

TEST(CgroupLayout, PureV2) {
  Layout layout = parse_layout(kPureV2);
  EXPECT_EQ(layout.unified, "/sys/fs/cgroup");
  EXPECT_TRUE(layout.v1.empty());
  EXPECT_TRUE(layout.pure_v2());
  std::vector<Hierarchy> hs = container_hierarchies(layout);
  ASSERT_EQ(hs.size(), 1u);
  EXPECT_TRUE(hs[0].v2);
  EXPECT_EQ(hs[0].dir("c1"), "/sys/fs/cgroup/crun-ckpt/c1");
}

TEST(CgroupLayout, Hybrid) {
  Layout layout = parse_layout(kHybrid);
  EXPECT_EQ(layout.unified, "/sys/fs/cgroup/unified");
  EXPECT_FALSE(layout.pure_v2());
  EXPECT_EQ(layout.v1_mount("memory"), "/sys/fs/cgroup/memory");
  EXPECT_EQ(layout.v1_mount("freezer"), "/sys/fs/cgroup/freezer");
  EXPECT_FALSE(layout.v1_mount("systemd"));
  EXPECT_FALSE(layout.v1_mount("name=systemd"));

  std::vector<std::string> dirs;
  for (const Hierarchy& h : container_hierarchies(layout)) dirs.push_back(h.dir("c1"));
  // cpuset is not joined: an empty v1 cpuset cgroup refuses tasks until cpus/mems are set.
  EXPECT_EQ(dirs,
            (std::vector<std::string>{
                "/sys/fs/cgroup/unified/crun-ckpt/c1", "/sys/fs/cgroup/memory/crun-ckpt/c1",
                "/sys/fs/cgroup/pids/crun-ckpt/c1", "/sys/fs/cgroup/cpu/crun-ckpt/c1",
                "/sys/fs/cgroup/cpuacct/crun-ckpt/c1", "/sys/fs/cgroup/freezer/crun-ckpt/c1"}));
}

TEST(CgroupLayout, CoMountedControllersShareOneDirectory) {
  std::vector<Hierarchy> hs = container_hierarchies(parse_layout(kCoMounted));
  ASSERT_EQ(hs.size(), 3u);
  EXPECT_EQ(hs[1].mount, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_TRUE(hs[1].has("cpu"));
  EXPECT_TRUE(hs[1].has("cpuacct"));
  EXPECT_EQ(hs[2].mount, "/sys/fs/cgroup/freezer");
}

TEST(CgroupLayout, NoCgroupsMounted) {
  Layout layout = parse_layout("22 1 0:21 / /proc rw - proc proc rw\ngarbage line\n");
  EXPECT_TRUE(layout.unified.empty());
  EXPECT_TRUE(container_hierarchies(layout).empty());
}

TEST(CgroupLayout, RejectsBadNames) {
  EXPECT_THROW(check_name(""), Error);
  EXPECT_THROW(check_name(".."), Error);
  EXPECT_THROW(check_name("a/b"), Error);
  EXPECT_NO_THROW(check_name("web-1"));
}

}  // namespace
}  // namespace ckpt::cgroup
