// The decisions of the checkpoint's `namespaces` stage (runtime/checkpoint/namespace_check.h)
// over a fake kernel: which tasks are refused for a namespace of their own, when the UTS names
// are captured, and when mounts and IPC objects are looked at.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "runtime/checkpoint/namespace_check.h"

namespace ckpt::checkpoint {
namespace {

constexpr const char* kMountinfo =
    "107 44 254:0 / / ro,relatime - ext4 /dev/vda rw\n"
    "108 107 0:52 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
    "114 107 0:57 / /tmp rw,relatime - tmpfs tmpfs rw\n";

constexpr const char* kAll[] = {"mnt",
                                "net",
                                "uts",
                                "ipc",
                                "user",
                                "cgroup",
                                "time",
                                "pid",
                                "pid_for_children",
                                "time_for_children"};

class FakeProbe : public NamespaceProbe {
 public:
  FakeProbe() {
    for (const char* name : kAll) {
      std::string base = std::string(name).substr(0, std::string(name).find("_for_children"));
      host[name] = base + ":[1]";
      container[base] = base + ":[2]";
    }
  }
  // Every task sees the container's namespaces unless overridden for (tid, name).
  std::string namespace_of(pid_t, pid_t tid, std::string_view name) const override {
    auto it = overrides.find({tid, std::string(name)});
    if (it != overrides.end()) return it->second;
    std::string n(name);
    return container.at(n.substr(0, n.find("_for_children")));
  }
  std::string own_namespace(std::string_view name) const override {
    asked_own.insert(std::string(name));
    return host.at(std::string(name));
  }
  std::string mountinfo(pid_t) const override {
    ++mountinfo_reads;
    return mounts;
  }
  ns::UtsNames uts_names(pid_t pid) const override {
    uts_pid = pid;
    return {"changed-at-runtime", "example.org"};
  }
  IpcListing ipc_objects(pid_t) const override {
    ++ipc_reads;
    return ipc;
  }

  std::map<std::string, std::string> host, container;
  std::map<std::pair<pid_t, std::string>, std::string> overrides;
  std::string mounts = kMountinfo;
  IpcListing ipc{"key shmid size nattch\n", "key semid nsems\n", "key msqid cbytes qnum\n", {}};
  mutable std::set<std::string> asked_own;
  mutable int mountinfo_reads = 0, ipc_reads = 0;
  mutable pid_t uts_pid = 0;
};

TreeNode node(pid_t host_pid, pid_t pid, const std::string& comm, std::vector<pid_t> host_tids,
              std::vector<pid_t> tids) {
  TreeNode n;
  n.host_pid = host_pid;
  n.pid = pid;
  n.comm = comm;
  n.host_tids = std::move(host_tids);
  n.tids = std::move(tids);
  return n;
}

std::vector<TreeNode> tree() {
  return {node(500, 1, "init", {500}, {1}), node(501, 2, "worker", {501, 502}, {2, 3}),
          node(503, 4, "sh", {503}, {4})};
}

MountTable initial() {
  return parse_mountinfo(kMountinfo);
}

TEST(CheckpointNamespaces, AllSharedCapturesUtsAndRefusesNothing) {
  FakeProbe probe;
  NamespaceFindings f = check_namespaces(probe, tree(), initial());
  EXPECT_TRUE(f.problems.empty()) << f.problems.front();
  ASSERT_TRUE(f.uts.has_value());
  EXPECT_EQ(f.uts->hostname, "changed-at-runtime");
  EXPECT_EQ(f.uts->domainname, "example.org");
  EXPECT_EQ(probe.uts_pid, 500) << "the names are read in the init's namespace";
  EXPECT_EQ(probe.mountinfo_reads, 1);
  EXPECT_EQ(probe.ipc_reads, 1);
}

TEST(CheckpointNamespaces, TaskThatUnsharedItsMountNamespaceIsNamed) {
  FakeProbe probe;
  probe.overrides[{503, "mnt"}] = "mnt:[77]";
  NamespaceFindings f = check_namespaces(probe, tree(), initial());
  ASSERT_EQ(f.problems.size(), 1u);
  EXPECT_EQ(f.problems[0],
            "pid 4 (sh) is in a mount namespace of its own (mnt:[77]), not the container's "
            "(mnt:[2]), as after unshare -m; restore cannot recreate that yet: let that task exit "
            "before checkpointing");
}

TEST(CheckpointNamespaces, EveryKindOfNamespaceIsCompared) {
  for (const char* name : {"mnt", "net", "uts", "ipc", "user", "cgroup", "time"}) {
    FakeProbe probe;
    probe.overrides[{501, name}] = "other";
    NamespaceFindings f = check_namespaces(probe, tree(), initial());
    ASSERT_EQ(f.problems.size(), 1u) << name;
    EXPECT_NE(f.problems[0].find("pid 2 (worker) is in a"), std::string::npos) << f.problems[0];
  }
}

TEST(CheckpointNamespaces, ASingleThreadIsNamedByItsTid) {
  FakeProbe probe;
  probe.overrides[{502, "uts"}] = "uts:[9]";
  NamespaceFindings f = check_namespaces(probe, tree(), initial());
  ASSERT_EQ(f.problems.size(), 1u);
  EXPECT_NE(f.problems[0].find("thread 3 of pid 2 (worker) is in a UTS namespace of its own "
                               "(uts:[9])"),
            std::string::npos)
      << f.problems[0];
  EXPECT_NE(f.problems[0].find("unshare -u"), std::string::npos) << f.problems[0];
}

TEST(CheckpointNamespaces, NamespacesForChildrenAreCompared) {
  FakeProbe probe;
  probe.overrides[{503, "pid_for_children"}] = "pid:[5]";
  probe.overrides[{500, "time_for_children"}] = "time:[6]";  // the init itself
  NamespaceFindings f = check_namespaces(probe, tree(), initial());
  ASSERT_EQ(f.problems.size(), 2u);
  EXPECT_NE(f.problems[0].find("pid 1 (init) will start its children in a time namespace of "
                               "their own (time_for_children time:[6])"),
            std::string::npos)
      << f.problems[0];
  EXPECT_NE(f.problems[1].find("pid 4 (sh) will start its children in a pid namespace"),
            std::string::npos)
      << f.problems[1];
}

TEST(CheckpointNamespaces, ZombiesAreSkipped) {
  FakeProbe probe;
  auto tasks = tree();
  tasks[2].zombie = true;
  probe.overrides[{503, "mnt"}] = "";  // a zombie has no namespaces left
  EXPECT_TRUE(check_namespaces(probe, tasks, initial()).problems.empty());
}

TEST(CheckpointNamespaces, NamespacesSharedWithTheHostAreNotTheContainers) {
  // A container without UTS, mount and IPC namespaces: its names, mounts and IPC objects are
  // the host's; none is captured or looked at.
  FakeProbe probe;
  for (const char* name : {"uts", "mnt", "ipc"}) probe.container[name] = probe.host[name];
  probe.mounts = "garbage that would not parse";
  probe.ipc.posix_queues = {"host-queue"};
  NamespaceFindings f = check_namespaces(probe, tree(), std::nullopt);
  EXPECT_TRUE(f.problems.empty()) << f.problems.front();
  EXPECT_FALSE(f.uts.has_value());
  EXPECT_EQ(probe.mountinfo_reads, 0);
  EXPECT_EQ(probe.ipc_reads, 0);
}

TEST(CheckpointNamespaces, MountChangesAreRefused) {
  FakeProbe probe;
  probe.mounts = std::string(kMountinfo) + "115 114 0:58 / /tmp/x rw - tmpfs none rw\n";
  NamespaceFindings f = check_namespaces(probe, tree(), initial());
  ASSERT_EQ(f.problems.size(), 1u);
  EXPECT_NE(f.problems[0].find("mount /tmp/x (tmpfs) was added at run time"), std::string::npos)
      << f.problems[0];
}

TEST(CheckpointNamespaces, NoInitialMountTableIsRefused) {
  FakeProbe probe;
  NamespaceFindings f = check_namespaces(probe, tree(), std::nullopt);
  ASSERT_EQ(f.problems.size(), 1u);
  EXPECT_NE(f.problems[0].find("the mount table the container started with was not recorded"),
            std::string::npos)
      << f.problems[0];
}

TEST(CheckpointNamespaces, IpcObjectsAreRefused) {
  FakeProbe probe;
  probe.ipc.sysvipc_shm = "key shmid size nattch\n5 0 4096 0\n";
  probe.ipc.posix_queues = {"q"};
  NamespaceFindings f = check_namespaces(probe, tree(), initial());
  ASSERT_EQ(f.problems.size(), 2u);
  EXPECT_NE(f.problems[0].find("SysV shared memory segment key 0x00000005 id 0"), std::string::npos)
      << f.problems[0];
  EXPECT_NE(f.problems[1].find("POSIX message queue /q"), std::string::npos) << f.problems[1];
}

TEST(CheckpointNamespaces, ProblemsOfEveryKindAreCollectedInOrder) {
  FakeProbe probe;
  probe.overrides[{501, "ipc"}] = "ipc:[8]";
  probe.mounts = "107 44 254:0 / / ro,relatime - ext4 /dev/vda rw\n";
  probe.ipc.posix_queues = {"q"};
  NamespaceFindings f = check_namespaces(probe, tree(), initial());
  ASSERT_EQ(f.problems.size(), 4u);
  EXPECT_NE(f.problems[0].find("pid 2 (worker)"), std::string::npos);
  EXPECT_NE(f.problems[1].find("mount /proc (proc) was unmounted"), std::string::npos);
  EXPECT_NE(f.problems[2].find("mount /tmp (tmpfs) was unmounted"), std::string::npos);
  EXPECT_NE(f.problems[3].find("POSIX message queue /q"), std::string::npos);
}

}  // namespace
}  // namespace ckpt::checkpoint
