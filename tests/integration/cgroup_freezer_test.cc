// Freezing real tasks with both freezers of this hybrid host: a child counting in shared memory
// stops counting while frozen, shows as not running in /proc, and counts again after thaw.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <thread>

#include "cgroup/cgroup.h"
#include "cgroup_helpers.h"
#include "common/error.h"
#include "harness.h"

namespace ckpt::test {
namespace {

using cgroup::FreezerKind;

// A counter in MAP_SHARED memory, written by the child and read by the test.
class SharedCounter {
 public:
  SharedCounter() {
    void* p = ::mmap(nullptr, sizeof(std::atomic<uint64_t>), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) std::abort();
    value_ = new (p) std::atomic<uint64_t>(0);
  }
  ~SharedCounter() { ::munmap(value_, sizeof *value_); }
  SharedCounter(const SharedCounter&) = delete;
  SharedCounter& operator=(const SharedCounter&) = delete;

  uint64_t get() const { return value_->load(); }
  [[noreturn]] void count_forever() {
    for (;;) value_->fetch_add(1);
  }

 private:
  std::atomic<uint64_t>* value_;
};

// The one-letter state from /proc/PID/status ("State:\tS (sleeping)").
char task_state(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("State:", 0) == 0) return line.size() > 7 ? line[7] : '?';
  return '?';
}

bool advances(const SharedCounter& counter) {
  uint64_t start = counter.get();
  return wait_until([&] { return counter.get() > start; });
}

class CgroupFreezer : public ::testing::TestWithParam<FreezerKind> {};

TEST_P(CgroupFreezer, FreezeStopsTheTaskAndThawResumesIt) {
  CKPT_REQUIRE_ROOT();
  // The child is declared before the cgroup so that on a failed assertion the cgroup is thawed
  // and killed before ~Child waits for the child (a v1-frozen task cannot die).
  SharedCounter counter;
  Child child([&]() -> int { counter.count_forever(); });
  TestCgroup cg(GetParam());
  ASSERT_EQ(cg->freezer(), GetParam());
  cg->add_process(child.pid());
  child.release();
  ASSERT_TRUE(advances(counter)) << "the child never started counting";
  EXPECT_FALSE(cg->frozen());

  cg->freeze();
  EXPECT_TRUE(cg->frozen());
  uint64_t frozen_at = counter.get();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(counter.get(), frozen_at) << "the counter advanced while frozen";
  // A busy loop is always R when it runs: frozen it sleeps (v2: S in the signal-delivery trap,
  // v1: D in the refrigerator).
  char state = task_state(child.pid());
  EXPECT_TRUE(state == 'S' || state == 'D') << "state " << state;

  // Freezing twice is harmless and returns at once.
  cg->freeze();
  cg->thaw();
  EXPECT_FALSE(cg->frozen());
  EXPECT_TRUE(advances(counter)) << "the counter did not resume after thaw";
  EXPECT_EQ(task_state(child.pid()), 'R');
}

TEST_P(CgroupFreezer, EmptyCgroupFreezesAndThaws) {
  CKPT_REQUIRE_ROOT();
  TestCgroup cg(GetParam());
  cg->freeze(std::chrono::seconds(2));
  EXPECT_TRUE(cg->frozen());
  cg->thaw(std::chrono::seconds(2));
  EXPECT_FALSE(cg->frozen());
}

TEST_P(CgroupFreezer, OpenedLaterFreezesTheSameTasks) {
  CKPT_REQUIRE_ROOT();
  SharedCounter counter;
  Child child([&]() -> int { counter.count_forever(); });
  TestCgroup cg(GetParam());
  cg->add_process(child.pid());
  child.release();
  ASSERT_TRUE(advances(counter));

  auto again = cgroup::open(cg.layout(), cg.name(), {GetParam(), nullptr});
  EXPECT_EQ(again->directories(), cg->directories());
  EXPECT_EQ(again->processes(), std::vector<pid_t>{child.pid()});
  again->freeze();
  EXPECT_TRUE(cg->frozen());
  again->thaw();
  EXPECT_TRUE(advances(counter));
}

TEST_P(CgroupFreezer, KillAllOfAFrozenCgroup) {
  CKPT_REQUIRE_ROOT();
  Child child([]() -> int {
    for (;;) ::pause();
  });
  TestCgroup cg(GetParam());
  cg->add_process(child.pid());
  child.release();
  cg->freeze();
  cg->kill_all(SIGKILL);
  EXPECT_TRUE(cg->processes().empty());
  int status = child.wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  cg->destroy();
  for (const std::string& dir : cg->directories()) EXPECT_NE(::access(dir.c_str(), F_OK), 0) << dir;
}

INSTANTIATE_TEST_SUITE_P(Cgroup, CgroupFreezer, ::testing::Values(FreezerKind::v2, FreezerKind::v1),
                         [](const auto& info) {
                           return info.param == FreezerKind::v2 ? "v2" : "v1";
                         });

}  // namespace
}  // namespace ckpt::test
