// The cgroup logic against a fake cgroupfs: which directories and files are used on hybrid and
// pure v2 hosts, limits, freeze waiting and timeouts, kill loops, rollback and removal.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>

#include "cgroup/cgroup.h"
#include "cgroup_fake_kernel.h"
#include "config/spec.h"

namespace ckpt::cgroup {
namespace {

using std::chrono::milliseconds;
using testing::FakeKernel;

const std::string kRoot = "/sys/fs/cgroup";

bool under(const std::string& path, const std::string& dir) {
  return path.rfind(dir + "/", 0) == 0;
}

// A hybrid host like the CI machine, cgroupfs files appearing on mkdir.
std::shared_ptr<FakeKernel> hybrid_kernel(Layout& layout) {
  auto k = std::make_shared<FakeKernel>();
  layout.unified = kRoot + "/unified";
  for (const char* c : {"cpu", "cpuacct", "memory", "freezer", "pids"})
    layout.v1.emplace_back(c, kRoot + "/" + c);
  k->dirs = {kRoot,
             kRoot + "/unified",
             kRoot + "/cpu",
             kRoot + "/cpuacct",
             kRoot + "/memory",
             kRoot + "/freezer",
             kRoot + "/pids"};
  k->files[kRoot + "/unified/cgroup.controllers"] = "\n";
  k->on_mkdir = [k = k.get()](const std::string& d) {
    auto add = [&](const std::string& f, const std::string& v = "") { k->files[d + "/" + f] = v; };
    add("cgroup.procs");
    if (under(d, kRoot + "/unified")) {
      for (const char* f : {"cgroup.threads", "cgroup.kill", "cgroup.subtree_control"}) add(f);
      add("cgroup.controllers", "\n");
      add("cgroup.freeze", "0\n");
      add("cgroup.events", "populated 0\nfrozen 0\n");
      return;
    }
    add("tasks");
    if (under(d, kRoot + "/memory")) {
      add("memory.limit_in_bytes", "9223372036854771712\n");
      add("memory.memsw.limit_in_bytes", "9223372036854771712\n");
    }
    if (under(d, kRoot + "/pids")) add("pids.max", "max\n");
    if (under(d, kRoot + "/cpu")) {
      add("cpu.cfs_period_us", "100000\n");
      add("cpu.cfs_quota_us", "-1\n");
    }
    if (under(d, kRoot + "/freezer")) add("freezer.state", "THAWED\n");
  };
  return k;
}

std::shared_ptr<FakeKernel> pure_v2_kernel(Layout& layout, const std::string& controllers) {
  auto k = std::make_shared<FakeKernel>();
  layout.unified = kRoot;
  k->dirs = {kRoot};
  k->files[kRoot + "/cgroup.controllers"] = controllers + "\n";
  k->files[kRoot + "/cgroup.subtree_control"] = "\n";
  k->on_mkdir = [k = k.get()](const std::string& d) {
    for (const char* f : {"cgroup.procs", "cgroup.threads", "cgroup.kill", "cgroup.subtree_control",
                          "memory.max", "memory.swap.max", "pids.max", "cpu.max"})
      k->files[d + "/" + f] = "";
    k->files[d + "/cgroup.freeze"] = "0\n";
    k->files[d + "/cgroup.events"] = "populated 0\nfrozen 0\n";
  };
  return k;
}

TEST(CgroupLogic, CreateOnHybridMakesOneDirectoryPerHierarchy) {
  Layout layout;
  auto k = hybrid_kernel(layout);
  auto cg = create(layout, "c1", {FreezerKind::automatic, k});
  std::vector<std::string> dirs = cg->directories();
  EXPECT_EQ(dirs.size(), 6u);
  for (const std::string& d : dirs) EXPECT_TRUE(k->dirs.count(d)) << d;
  // The unified hierarchy's cgroup.freeze is preferred over the v1 freezer.
  EXPECT_EQ(cg->freezer(), FreezerKind::v2);
  EXPECT_EQ(cg->path(), kRoot + "/unified/crun-ckpt/c1");
}

TEST(CgroupLogic, ExplicitV1FreezerListsTasksFromTheFreezerHierarchy) {
  Layout layout;
  auto k = hybrid_kernel(layout);
  auto cg = create(layout, "c1", {FreezerKind::v1, k});
  EXPECT_EQ(cg->freezer(), FreezerKind::v1);
  EXPECT_EQ(cg->path(), kRoot + "/freezer/crun-ckpt/c1");
  k->files[kRoot + "/freezer/crun-ckpt/c1/tasks"] = "5\n6\n7\n";
  k->files[kRoot + "/freezer/crun-ckpt/c1/cgroup.procs"] = "5\n";
  EXPECT_EQ(cg->threads(), (std::vector<pid_t>{5, 6, 7}));
  EXPECT_EQ(cg->processes(), (std::vector<pid_t>{5}));
}

TEST(CgroupLogic, V2FreezerUnavailableIsAnError) {
  Layout layout;
  auto k = hybrid_kernel(layout);
  layout.unified.clear();
  EXPECT_THROW(create(layout, "c1", {FreezerKind::v2, k}), Error);
  // Nothing is left behind by the failed create.
  EXPECT_FALSE(k->dirs.count(kRoot + "/memory/crun-ckpt/c1"));
  EXPECT_FALSE(k->dirs.count(kRoot + "/freezer/crun-ckpt/c1"));
}

TEST(CgroupLogic, DuplicateCreateFailsAndKeepsTheExistingCgroup) {
  Layout layout;
  auto k = hybrid_kernel(layout);
  k->dirs.insert(kRoot + "/memory/crun-ckpt");
  k->dirs.insert(kRoot + "/memory/crun-ckpt/c1");  // a leftover in one hierarchy only
  try {
    create(layout, "c1", {FreezerKind::automatic, k});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "cgroup crun-ckpt/c1 already exists: a container of that name is running or was "
                 "not deleted; run `crun-ckpt delete -f c1`");
  }
  EXPECT_FALSE(k->dirs.count(kRoot + "/unified/crun-ckpt/c1"));  // made, then removed
  EXPECT_TRUE(k->dirs.count(kRoot + "/memory/crun-ckpt/c1"));    // not ours to remove
  EXPECT_TRUE(k->dirs.count(kRoot + "/unified/crun-ckpt"));      // the shared parent stays
}

TEST(CgroupLogic, AddProcessJoinsEveryHierarchy) {
  Layout layout;
  auto k = hybrid_kernel(layout);
  auto cg = create(layout, "c1", {FreezerKind::automatic, k});
  cg->add_process(42);
  for (const std::string& d : cg->directories())
    EXPECT_EQ(k->files[d + "/cgroup.procs"], "42") << d;
  EXPECT_EQ(k->written("/cgroup.procs").size(), 6u);
}

TEST(CgroupLogic, HybridLimitsGoToTheV1Hierarchies) {
  Layout layout;
  auto k = hybrid_kernel(layout);
  auto cg = create(layout, "c1", {FreezerKind::automatic, k});
  config::Resources r;
  r.memory_bytes = 64 << 20;
  r.pids = 7;
  r.cpus = 1.5;
  cg->apply(r);
  const std::string mem = kRoot + "/memory/crun-ckpt/c1/";
  EXPECT_EQ(k->files[mem + "memory.limit_in_bytes"], "67108864");
  EXPECT_EQ(k->files[mem + "memory.memsw.limit_in_bytes"], "67108864");
  EXPECT_EQ(k->files[kRoot + "/pids/crun-ckpt/c1/pids.max"], "7");
  EXPECT_EQ(k->files[kRoot + "/cpu/crun-ckpt/c1/cpu.cfs_period_us"], "100000");
  EXPECT_EQ(k->files[kRoot + "/cpu/crun-ckpt/c1/cpu.cfs_quota_us"], "150000");
  EXPECT_TRUE(k->written("cgroup.subtree_control").empty());
}

TEST(CgroupLogic, HybridMemoryLimitRaisesMemswFirstWhenNeeded) {
  Layout layout;
  auto k = hybrid_kernel(layout);
  auto cg = create(layout, "c1", {FreezerKind::automatic, k});
  const std::string mem = kRoot + "/memory/crun-ckpt/c1/";
  k->files[mem + "memory.memsw.limit_in_bytes"] = "1048576";
  // The kernel refuses limit_in_bytes above memsw (EINVAL); the fake plays that rule.
  auto plain_write = k->on_write;
  bool refused = false;
  k->on_write = [&](const std::string& path, const std::string& data) {
    if (path == mem + "memory.limit_in_bytes" &&
        k->files[mem + "memory.memsw.limit_in_bytes"] == "1048576" && !refused) {
      refused = true;
      throw Error("write " + path, EINVAL);
    }
    (void)data;
  };
  config::Resources r;
  r.memory_bytes = 64 << 20;
  cg->apply(r);
  EXPECT_TRUE(refused);
  EXPECT_EQ(k->files[mem + "memory.limit_in_bytes"], "67108864");
  EXPECT_EQ(k->files[mem + "memory.memsw.limit_in_bytes"], "67108864");
}

TEST(CgroupLogic, PureV2EnablesControllersInBothParents) {
  Layout layout;
  auto k = pure_v2_kernel(layout, "cpuset cpu io memory pids");
  auto cg = create(layout, "c1", {FreezerKind::automatic, k});
  EXPECT_EQ(cg->directories(), (std::vector<std::string>{kRoot + "/crun-ckpt/c1"}));
  config::Resources r;
  r.memory_bytes = 1 << 30;
  r.pids = 100;
  r.cpus = 0.5;
  cg->apply(r);
  const std::string d = kRoot + "/crun-ckpt/c1/";
  EXPECT_EQ(k->files[d + "memory.max"], "1073741824");
  EXPECT_EQ(k->files[d + "memory.swap.max"], "0");
  EXPECT_EQ(k->files[d + "pids.max"], "100");
  EXPECT_EQ(k->files[d + "cpu.max"], "50000 100000");
  std::vector<std::pair<std::string, std::string>> enables;
  for (const auto& w : k->writes)
    if (w.first.ends_with("cgroup.subtree_control")) enables.push_back(w);
  // The fake does not merge "+x" writes, so each controller is written to each parent.
  EXPECT_EQ(enables, (std::vector<std::pair<std::string, std::string>>{
                         {kRoot + "/cgroup.subtree_control", "+memory"},
                         {kRoot + "/crun-ckpt/cgroup.subtree_control", "+memory"},
                         {kRoot + "/cgroup.subtree_control", "+pids"},
                         {kRoot + "/crun-ckpt/cgroup.subtree_control", "+pids"},
                         {kRoot + "/cgroup.subtree_control", "+cpu"},
                         {kRoot + "/crun-ckpt/cgroup.subtree_control", "+cpu"}}));
}

TEST(CgroupLogic, PureV2SkipsControllersAlreadyEnabled) {
  Layout layout;
  auto k = pure_v2_kernel(layout, "cpu memory pids");
  k->files[kRoot + "/cgroup.subtree_control"] = "cpu memory pids\n";
  auto cg = create(layout, "c1", {FreezerKind::automatic, k});
  k->files[kRoot + "/crun-ckpt/cgroup.subtree_control"] = "memory\n";
  config::Resources r;
  r.memory_bytes = 1 << 30;
  cg->apply(r);
  EXPECT_TRUE(k->written("cgroup.subtree_control").empty());
}

TEST(CgroupLogic, MissingControllerNamesTheLimit) {
  Layout layout;
  auto k = pure_v2_kernel(layout, "cpu memory");
  auto cg = create(layout, "c1", {FreezerKind::automatic, k});
  config::Resources r;
  r.pids = 10;
  try {
    cg->apply(r);
    FAIL() << "no error";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("resources.pids"), std::string::npos) << what;
    EXPECT_NE(what.find("pids controller"), std::string::npos) << what;
  }
}

TEST(CgroupLogic, V2FreezeWaitsForTheFrozenEvent) {
  Layout layout;
  auto k = pure_v2_kernel(layout, "");
  auto cg = create(layout, "c1", {FreezerKind::automatic, k});
  const std::string events = kRoot + "/crun-ckpt/c1/cgroup.events";
  int looks = 0;
  k->on_read = [&](const std::string& path) {
    // The kernel takes a few looks to stop every task.
    if (path == events && k->files[kRoot + "/crun-ckpt/c1/cgroup.freeze"] == "1" && ++looks == 3)
      k->files[events] = "populated 1\nfrozen 1\n";
  };
  EXPECT_FALSE(cg->frozen());
  cg->freeze(milliseconds(1000));
  EXPECT_GE(looks, 3);
  EXPECT_TRUE(cg->frozen());
  k->on_read = [&](const std::string& path) {
    if (path == events && k->files[kRoot + "/crun-ckpt/c1/cgroup.freeze"] == "0")
      k->files[events] = "populated 1\nfrozen 0\n";
  };
  cg->thaw(milliseconds(1000));
  EXPECT_FALSE(cg->frozen());
  EXPECT_EQ(k->written("cgroup.freeze"), (std::vector<std::string>{"1", "0"}));
}

TEST(CgroupLogic, V2FreezeTimeoutNamesTheCgroupAndLeavesItRunning) {
  Layout layout;
  auto k = pure_v2_kernel(layout, "");
  auto cg = create(layout, "c1", {FreezerKind::automatic, k});
  try {
    cg->freeze(milliseconds(500));
    FAIL() << "no error";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(kRoot + "/crun-ckpt/c1 did not freeze within 500 ms"), std::string::npos)
        << what;
  }
  EXPECT_EQ(k->written("cgroup.freeze"), (std::vector<std::string>{"1", "0"}));
}

TEST(CgroupLogic, V1FreezeWaitsThroughFreezing) {
  Layout layout;
  auto k = hybrid_kernel(layout);
  auto cg = create(layout, "c1", {FreezerKind::v1, k});
  const std::string state = kRoot + "/freezer/crun-ckpt/c1/freezer.state";
  int looks = 0;
  k->on_write = [&](const std::string& path, const std::string& data) {
    if (path == state && data == "FROZEN") k->files[state] = "FREEZING\n";
  };
  k->on_read = [&](const std::string& path) {
    if (path == state && k->files[state] == "FREEZING\n" && ++looks == 4)
      k->files[state] = "FROZEN\n";
  };
  cg->freeze(milliseconds(1000));
  EXPECT_EQ(looks, 4);
  EXPECT_TRUE(cg->frozen());
  cg->thaw(milliseconds(1000));
  EXPECT_FALSE(cg->frozen());
}

TEST(CgroupLogic, V1FreezeTimeoutThawsAgain) {
  Layout layout;
  auto k = hybrid_kernel(layout);
  auto cg = create(layout, "c1", {FreezerKind::v1, k});
  const std::string state = kRoot + "/freezer/crun-ckpt/c1/freezer.state";
  k->on_write = [&](const std::string& path, const std::string& data) {
    if (path == state && data == "FROZEN") k->files[state] = "FREEZING\n";
  };
  EXPECT_THROW(cg->freeze(milliseconds(200)), Error);
  EXPECT_EQ(k->written("freezer.state").back(), "THAWED");
}

// Tasks leave cgroup.procs when signalled; pid 10 forks 12 just before it dies.
void play_dying_tasks(FakeKernel& k, const std::string& procs) {
  k.files[procs] = "10\n11\n";
  k.on_signal = [&k, procs, forked = false](pid_t pid, int) mutable {
    std::string list = k.files[procs];
    std::string line = std::to_string(pid) + "\n";
    if (auto at = list.find(line); at != std::string::npos) list.erase(at, line.size());
    if (pid == 10 && !forked) {
      forked = true;
      list += "12\n";
    }
    k.files[procs] = list;
  };
}

TEST(CgroupLogic, SigkillLoopsUntilTheCgroupIsEmpty) {
  Layout layout;
  auto k = hybrid_kernel(layout);
  auto cg = create(layout, "c1", {FreezerKind::v1, k});
  k->files.erase(kRoot + "/unified/crun-ckpt/c1/cgroup.kill");  // a kernel before 5.14
  play_dying_tasks(*k, kRoot + "/freezer/crun-ckpt/c1/cgroup.procs");
  cg->kill_all(SIGKILL, milliseconds(1000));
  std::vector<pid_t> killed;
  for (auto [pid, sig] : k->signals) {
    EXPECT_EQ(sig, SIGKILL);
    killed.push_back(pid);
  }
  std::sort(killed.begin(), killed.end());
  EXPECT_EQ(killed, (std::vector<pid_t>{10, 11, 12}));
  EXPECT_TRUE(cg->processes().empty());
}

TEST(CgroupLogic, SigkillOfFrozenV1CgroupQueuesThenThaws) {
  Layout layout;
  auto k = hybrid_kernel(layout);
  auto cg = create(layout, "c1", {FreezerKind::v1, k});
  k->files.erase(kRoot + "/unified/crun-ckpt/c1/cgroup.kill");
  const std::string dir = kRoot + "/freezer/crun-ckpt/c1/";
  k->files[dir + "freezer.state"] = "FROZEN\n";
  k->files[dir + "cgroup.procs"] = "10\n";
  size_t signals_at_thaw = 0;
  k->on_write = [&](const std::string& path, const std::string& data) {
    if (path == dir + "freezer.state" && data == "THAWED") {
      signals_at_thaw = k->signals.size();
      k->files[dir + "cgroup.procs"] = "";  // the killed task dies on wake-up
    }
  };
  cg->kill_all(SIGKILL, milliseconds(1000));
  EXPECT_EQ(signals_at_thaw, 1u);
  EXPECT_FALSE(cg->frozen());
}

TEST(CgroupLogic, SigkillUsesCgroupKillOnV2) {
  Layout layout;
  auto k = pure_v2_kernel(layout, "");
  auto cg = create(layout, "c1", {FreezerKind::automatic, k});
  const std::string dir = kRoot + "/crun-ckpt/c1/";
  k->files[dir + "cgroup.procs"] = "10\n11\n";
  k->on_write = [&](const std::string& path, const std::string&) {
    if (path == dir + "cgroup.kill") k->files[dir + "cgroup.procs"] = "";
  };
  cg->kill_all(SIGKILL, milliseconds(1000));
  EXPECT_TRUE(k->signals.empty());
  EXPECT_EQ(k->written("cgroup.kill"), (std::vector<std::string>{"1"}));
}

TEST(CgroupLogic, SigkillTimeoutNamesTheSurvivors) {
  Layout layout;
  auto k = pure_v2_kernel(layout, "");
  auto cg = create(layout, "c1", {FreezerKind::automatic, k});
  k->files[kRoot + "/crun-ckpt/c1/cgroup.procs"] = "77\n";
  try {
    cg->kill_all(SIGKILL, milliseconds(300));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("still has tasks 77"), std::string::npos) << e.what();
  }
}

TEST(CgroupLogic, OtherSignalsReachEachTaskOnce) {
  Layout layout;
  auto k = pure_v2_kernel(layout, "");
  auto cg = create(layout, "c1", {FreezerKind::automatic, k});
  const std::string procs = kRoot + "/crun-ckpt/c1/cgroup.procs";
  k->files[procs] = "10\n11\n";
  k->on_signal = [&](pid_t pid, int) {
    if (pid == 11) k->files[procs] = "10\n11\n13\n";  // a fork while signalling
  };
  cg->kill_all(SIGTERM, milliseconds(1000));
  EXPECT_EQ(k->signals,
            (std::vector<std::pair<pid_t, int>>{{10, SIGTERM}, {11, SIGTERM}, {13, SIGTERM}}));
}

TEST(CgroupLogic, DestroyRetriesBusyAndToleratesMissing) {
  Layout layout;
  auto k = hybrid_kernel(layout);
  auto cg = create(layout, "c1", {FreezerKind::automatic, k});
  k->busy[kRoot + "/memory/crun-ckpt/c1"] = 3;
  k->dirs.erase(kRoot + "/pids/crun-ckpt/c1");  // already gone
  cg->destroy();
  for (const std::string& d : cg->directories()) EXPECT_FALSE(k->dirs.count(d)) << d;
  EXPECT_FALSE(k->dirs.count(kRoot + "/memory/crun-ckpt"));  // the last container takes them
}

TEST(CgroupLogic, DestroyKeepsTheParentWhileASiblingExists) {
  Layout layout;
  auto k = hybrid_kernel(layout);
  auto first = create(layout, "c1", {FreezerKind::automatic, k});
  auto second = create(layout, "c2", {FreezerKind::automatic, k});
  first->destroy();
  EXPECT_TRUE(k->dirs.count(kRoot + "/memory/crun-ckpt/c2"));
  EXPECT_TRUE(k->dirs.count(kRoot + "/memory/crun-ckpt"));
  second->destroy();
  EXPECT_FALSE(k->dirs.count(kRoot + "/memory/crun-ckpt"));
}

TEST(CgroupLogic, DestroyReportsAStuckDirectoryAfterRemovingTheOthers) {
  Layout layout;
  auto k = hybrid_kernel(layout);
  auto cg = create(layout, "c1", {FreezerKind::automatic, k});
  k->busy[kRoot + "/memory/crun-ckpt/c1"] = 1 << 30;
  try {
    cg->destroy();
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), EBUSY);
    EXPECT_NE(std::string(e.what()).find(kRoot + "/memory/crun-ckpt/c1"), std::string::npos);
  }
  EXPECT_FALSE(k->dirs.count(kRoot + "/freezer/crun-ckpt/c1"));
}

TEST(CgroupLogic, OpenFindsTheExistingDirectories) {
  Layout layout;
  auto k = hybrid_kernel(layout);
  create(layout, "c1", {FreezerKind::automatic, k});
  auto cg = open(layout, "c1", {FreezerKind::automatic, k});
  EXPECT_EQ(cg->directories().size(), 6u);
  EXPECT_EQ(cg->freezer(), FreezerKind::v2);
  auto v1 = open(layout, "c1", {FreezerKind::v1, k});
  EXPECT_EQ(v1->path(), kRoot + "/freezer/crun-ckpt/c1");
  EXPECT_THROW(open(layout, "nope", {FreezerKind::automatic, k}), Error);
}

}  // namespace
}  // namespace ckpt::cgroup
