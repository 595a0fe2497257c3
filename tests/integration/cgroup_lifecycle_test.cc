// Container cgroups on the real kernel: create/destroy, duplicates, task listing, kill_all
// (cgroup.kill and the signal loop) and limits that the kernel enforces.
#include <dirent.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/prctl.h>

#include <algorithm>
#include <set>

#include "cgroup/cgroup.h"
#include "cgroup/kernel.h"
#include "cgroup_helpers.h"
#include "common/error.h"
#include "common/file_util.h"
#include "config/spec.h"
#include "harness.h"

namespace ckpt::test {
namespace {

using cgroup::FreezerKind;

bool exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

std::vector<pid_t> task_ids(pid_t pid) {
  std::vector<pid_t> tids;
  DIR* dir = ::opendir(("/proc/" + std::to_string(pid) + "/task").c_str());
  if (dir == nullptr) return tids;
  while (dirent* e = ::readdir(dir))
    if (e->d_name[0] != '.') tids.push_back(std::stoi(e->d_name));
  ::closedir(dir);
  std::sort(tids.begin(), tids.end());
  return tids;
}

// Makes this test process the reaper of orphaned grandchildren (PID 1 reaps slowly here), for
// the scope of one test.
class SubreaperScope {
 public:
  SubreaperScope() { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }
  ~SubreaperScope() { ::prctl(PR_SET_CHILD_SUBREAPER, 0); }
};

// The real kernel without cgroup.kill, so kill_all takes its signal loop as on Linux < 5.14.
class NoCgroupKill : public cgroup::Kernel {
 public:
  std::string read(const std::string& p) override { return real_->read(p); }
  void write(const std::string& p, std::string_view d) override { real_->write(p, d); }
  bool exists(const std::string& p) override {
    return !p.ends_with("/cgroup.kill") && real_->exists(p);
  }
  int make_dir(const std::string& p) override { return real_->make_dir(p); }
  int remove_dir(const std::string& p) override { return real_->remove_dir(p); }
  std::unique_ptr<cgroup::Watch> watch(const std::string& p) override { return real_->watch(p); }
  int send_signal(pid_t pid, int sig) override {
    ++signals;
    return real_->send_signal(pid, sig);
  }
  void sleep(std::chrono::milliseconds d) override { real_->sleep(d); }
  std::chrono::steady_clock::time_point now() override { return real_->now(); }
  int signals = 0;

 private:
  std::shared_ptr<cgroup::Kernel> real_ = cgroup::real_kernel();
};

TEST(CgroupLifecycle, CreateThenDestroyLeavesNothing) {
  CKPT_REQUIRE_ROOT();
  cgroup::Layout layout = cgroup::detect_layout();
  std::string name = unique_name("cgtest");
  auto cg = cgroup::create(layout, name);
  std::vector<std::string> dirs = cg->directories();
  ASSERT_FALSE(dirs.empty());
  for (const std::string& d : dirs) {
    EXPECT_TRUE(exists(d)) << d;
    EXPECT_NE(d.find(std::string("/crun-ckpt/") + name), std::string::npos) << d;
  }
  if (!layout.pure_v2()) {
    EXPECT_TRUE(exists(layout.unified + "/crun-ckpt/" + name));
    EXPECT_TRUE(exists(*layout.v1_mount("freezer") + "/crun-ckpt/" + name));
  }
  cg->destroy();
  for (const std::string& d : dirs) EXPECT_FALSE(exists(d)) << d;
  cg->destroy();  // already gone is fine
  EXPECT_THROW(cgroup::open(layout, name), Error);
}

TEST(CgroupLifecycle, DuplicateCreateFailsWithAClearMessage) {
  CKPT_REQUIRE_ROOT();
  TestCgroup cg;
  try {
    cgroup::create(cg.layout(), cg.name());
    FAIL() << "duplicate create succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "cgroup crun-ckpt/" + cg.name() +
                  " already exists: a container of that name is running or was not deleted; "
                  "run `crun-ckpt delete -f " +
                  cg.name() + "`");
  }
  // The failed create removed nothing of the existing cgroup.
  for (const std::string& d : cg->directories()) EXPECT_TRUE(exists(d)) << d;
}

TEST(CgroupLifecycle, ProcessIsInEveryHierarchy) {
  CKPT_REQUIRE_ROOT();
  TestCgroup cg;
  Child child([]() -> int {
    for (;;) ::pause();
  });
  cg->add_process(child.pid());
  for (const std::string& d : cg->directories())
    EXPECT_EQ(trim(slurp(d + "/cgroup.procs")), std::to_string(child.pid())) << d;
  EXPECT_EQ(cg->processes(), std::vector<pid_t>{child.pid()});
}

void* sleep_forever(void*) {
  for (;;) ::pause();
}

TEST(CgroupLifecycle, ThreadsListsEveryThreadWithEitherFreezer) {
  CKPT_REQUIRE_ROOT();
  for (FreezerKind kind : {FreezerKind::v2, FreezerKind::v1}) {
    TestCgroup cg(kind);
    Child child([]() -> int {
      for (int i = 0; i < 3; ++i) {
        pthread_t t;
        if (pthread_create(&t, nullptr, sleep_forever, nullptr) != 0) return 1;
      }
      for (;;) ::pause();
    });
    cg->add_process(child.pid());
    child.release();
    ASSERT_TRUE(wait_until([&] { return task_ids(child.pid()).size() == 4; }));
    std::vector<pid_t> threads = cg->threads();
    std::sort(threads.begin(), threads.end());
    EXPECT_EQ(threads, task_ids(child.pid()));
    EXPECT_EQ(cg->processes(), std::vector<pid_t>{child.pid()});
  }
}

// A child that forks two grandchildren, reports their pids and waits to be killed.
void kill_tree(cgroup::Cgroup& cg) {
  SubreaperScope subreaper;
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  Child child([&]() -> int {
    ::close(report[0]);
    for (int i = 0; i < 2; ++i) {
      pid_t pid = ::fork();
      if (pid == 0)
        for (;;) ::pause();
      if (::write(report[1], &pid, sizeof pid) != sizeof pid) return 1;
    }
    for (;;) ::pause();
  });
  ::close(report[1]);
  cg.add_process(child.pid());
  child.release();
  pid_t grandchildren[2] = {-1, -1};
  read_full(report[0], grandchildren, sizeof grandchildren, "grandchild pids");
  ::close(report[0]);
  EXPECT_EQ(cg.processes().size(), 3u);

  cg.kill_all(SIGKILL);
  EXPECT_TRUE(cg.processes().empty());
  int status = child.wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  // Orphaned by the child, they are ours to reap as subreaper.
  for (pid_t gc : grandchildren) {
    ASSERT_EQ(::waitpid(gc, &status, 0), gc);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  }
  cg.destroy();
}

TEST(CgroupLifecycle, KillAllKillsChildAndGrandchildrenWithCgroupKill) {
  CKPT_REQUIRE_ROOT();
  TestCgroup cg;
  kill_tree(cg.get());
}

TEST(CgroupLifecycle, KillAllKillsChildAndGrandchildrenBySignalLoop) {
  CKPT_REQUIRE_ROOT();
  auto kernel = std::make_shared<NoCgroupKill>();
  cgroup::Layout layout = cgroup::detect_layout();
  std::string name = unique_name("cgtest");
  auto cg = cgroup::create(layout, name, {FreezerKind::v1, kernel});
  // Removes the cgroup even when an assertion below fails.
  struct Cleanup {
    cgroup::Cgroup& cg;
    ~Cleanup() {
      try {
        cg.kill_all(SIGKILL);
        cg.destroy();
      } catch (...) {
      }
    }
  } cleanup{*cg};
  kill_tree(*cg);
  EXPECT_GE(kernel->signals, 3);
}

TEST(CgroupLifecycle, OtherSignalsAreDeliveredWithoutWaiting) {
  CKPT_REQUIRE_ROOT();
  TestCgroup cg;
  Child child([]() -> int {
    for (;;) ::pause();
  });
  cg->add_process(child.pid());
  child.release();
  cg->kill_all(SIGTERM);
  int status = child.wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << status;
}

TEST(CgroupLifecycle, PidsLimitMakesForkFail) {
  CKPT_REQUIRE_ROOT();
  constexpr int kLimit = 5;
  TestCgroup cg;
  config::Resources limits;
  limits.pids = kLimit;
  cg->apply(limits);
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  // Forks until the kernel refuses, reports how many forks worked and the errno, cleans up.
  Child child([&]() -> int {
    ::close(report[0]);
    std::vector<pid_t> kids;
    int result[2] = {0, 0};
    for (int i = 0; i < 4 * kLimit; ++i) {
      pid_t pid = ::fork();
      if (pid == 0)
        for (;;) ::pause();
      if (pid < 0) {
        result[1] = errno;
        break;
      }
      kids.push_back(pid);
    }
    result[0] = static_cast<int>(kids.size());
    for (pid_t pid : kids) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    return ::write(report[1], result, sizeof result) == sizeof result ? 0 : 1;
  });
  ::close(report[1]);
  cg->add_process(child.pid());
  child.release();
  int result[2] = {-1, -1};
  read_full(report[0], result, sizeof result, "fork count");
  ::close(report[0]);
  EXPECT_EQ(child.wait(), 0);
  EXPECT_EQ(result[1], EAGAIN);
  EXPECT_GT(result[0], 0);
  EXPECT_LT(result[0], kLimit);  // the child itself is one of the kLimit tasks
}

TEST(CgroupLifecycle, LimitFilesHoldTheSpecValues) {
  CKPT_REQUIRE_ROOT();
  TestCgroup cg;
  config::Resources limits;
  limits.memory_bytes = 64ull << 20;
  limits.pids = 32;
  limits.cpus = 1.5;
  cg->apply(limits);
  const cgroup::Layout& layout = cg.layout();
  std::string suffix = "/crun-ckpt/" + cg.name();
  if (layout.pure_v2()) {
    std::string d = layout.unified + suffix;
    EXPECT_EQ(trim(slurp(d + "/memory.max")), "67108864");
    EXPECT_EQ(trim(slurp(d + "/pids.max")), "32");
    EXPECT_EQ(trim(slurp(d + "/cpu.max")), "150000 100000");
    return;
  }
  std::string mem = *layout.v1_mount("memory") + suffix;
  EXPECT_EQ(trim(slurp(mem + "/memory.limit_in_bytes")), "67108864");
  if (exists(mem + "/memory.memsw.limit_in_bytes")) {
    EXPECT_EQ(trim(slurp(mem + "/memory.memsw.limit_in_bytes")), "67108864");
  }
  EXPECT_EQ(trim(slurp(*layout.v1_mount("pids") + suffix + "/pids.max")), "32");
  std::string cpu = *layout.v1_mount("cpu") + suffix;
  EXPECT_EQ(trim(slurp(cpu + "/cpu.cfs_period_us")), "100000");
  EXPECT_EQ(trim(slurp(cpu + "/cpu.cfs_quota_us")), "150000");

  // Raising the limit later works although memsw must stay above limit_in_bytes.
  limits.memory_bytes = 128ull << 20;
  cg->apply(limits);
  EXPECT_EQ(trim(slurp(mem + "/memory.limit_in_bytes")), "134217728");
}

TEST(CgroupLifecycle, BadCpuValueNamesTheSpecKey) {
  CKPT_REQUIRE_ROOT();
  TestCgroup cg;
  config::Resources limits;
  limits.cpus = 0.0001;
  try {
    cg->apply(limits);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("resources.cpus"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ckpt::test
