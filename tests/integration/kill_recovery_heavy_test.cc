// The heavy kill test of issue 8: `crun-ckpt checkpoint` SIGKILLed at 50 delays spread over the
// whole dump of a container with 40 processes, two threads each (one keeping invariants in its
// general and AVX registers, tests/workloads/register_spin.h) and 240 MiB of random memory.
// After every kill, with no command that could repair anything, every process must be alive and
// report from inside that its memory digest and its registers are intact, the cgroup must be
// thawed, no partial image may remain, and the next checkpoint must succeed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "container_fixture.h"
#include "harness.h"
#include "kill_recovery.h"

namespace ckpt::test {
namespace {

using std::chrono::seconds;

constexpr int kProcesses = 40;
constexpr int kMibEach = 6;
constexpr int kKills = 50;

class SpinningTree {
 public:
  explicit SpinningTree(Cli& cli) : cli_(cli), id_(unique_name("kheavy")), dir_("ckpt-heavy") {
    cli_.track(id_);
    spec_ = write_spec(cli_, id_,
                       {workload("selfcheck"), "/mnt", std::to_string(kMibEach), "--tree",
                        std::to_string(kProcesses), "--spin"},
                       report_mount(dir_.path()));
  }
  ~SpinningTree() { cli_({"delete", "-f", id_}); }  // before the report directory goes

  const std::string& id() const { return id_; }

  bool start() {
    auto r = cli_({"run", "-d", spec_});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return wait_until([&] { return status_pids(dir_.path()).size() == kProcesses; }, seconds(120));
  }

  // Every process reports; returns pid -> its key=value fields.
  std::map<std::string, std::map<std::string, std::string>> reports() {
    std::map<std::string, std::map<std::string, std::string>> out;
    for (const auto& [pid, text] : request_reports(cli_, id_, dir_.path(), kProcesses))
      out[pid] = parse_key_values(text);
    return out;
  }

 private:
  Cli& cli_;
  std::string id_;
  TempDir dir_;
  std::string spec_;
};

// What every process must say after a kill, compared with what it said before any: same pid
// set, digest of its memory unchanged and equal to the one taken when it filled it, registers
// checked by its spinning thread, and both its counters moved on.
void expect_unharmed(std::map<std::string, std::map<std::string, std::string>>& before,
                     std::map<std::string, std::map<std::string, std::string>>& now) {
  ASSERT_EQ(now.size(), before.size()) << "a process is missing";
  for (auto& [pid, r] : now) {
    SCOPED_TRACE("pid " + pid);
    ASSERT_EQ(before.count(pid), 1u) << "a process that was not there before";
    EXPECT_EQ(r["digest"], before[pid]["digest"]) << "its memory changed";
    EXPECT_EQ(r["digest"], r["start_digest"]);
    if (before[pid].count("regs")) {
      EXPECT_EQ(r["regs"], "ok") << "its registers were damaged";
      EXPECT_GT(std::stol(r["spins"]), std::stol(before[pid]["spins"])) << "its thread stopped";
    }
    EXPECT_GT(std::stol(r["counter"]), std::stol(before[pid]["counter"]));
  }
}

TEST(KillRecovery, FiftyKillsOverTheDumpOfFortyProcessesHarmNoTask) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  SpinningTree tree(cli);
  ASSERT_TRUE(tree.start());
  auto before = tree.reports();
  ASSERT_EQ(before.size(), static_cast<size_t>(kProcesses));

  std::string image = cli.scratch().file("image"), next = cli.scratch().file("next");
  std::vector<std::string> checkpoint = {"checkpoint", "--leave-running", "--compress", "none",
                                         "--image-path"};
  auto with_path = [&](const std::string& path) {
    auto args = checkpoint;
    args.push_back(path);
    args.push_back(tree.id());
    return args;
  };
  // The first dump is slower (cold caches): spread the kills over a warm one.
  auto dump = time_command(cli, with_path(next));
  std::filesystem::remove_all(next);
  dump = std::min(dump, time_command(cli, with_path(next)));
  std::filesystem::remove_all(next);

  int inside = 0;
  for (auto delay : spread(dump * 11 / 10, kKills)) {
    SCOPED_TRACE("killed after " + std::to_string(delay.count() / 1000) + " ms");
    KillResult kill = run_killed_after(cli, with_path(image), delay);
    if (kill.hit_running) ++inside;
    EXPECT_TRUE(wait_until(
        [&] { return partials_of(image).empty() && status_of(cli, tree.id()) == "running"; },
        seconds(5)))
        << "state: " << status_of(cli, tree.id()) << ", partials: " << partials_of(image).size();
    auto now = tree.reports();
    expect_unharmed(before, now);
    if (::testing::Test::HasFailure()) break;  // one broken round says it all
    before = std::move(now);
    std::filesystem::remove_all(image);
    auto ck = cli(with_path(next), seconds(120));
    EXPECT_EQ(ck.exit_code, 0) << "the next checkpoint: " << ck.err;
    std::filesystem::remove_all(next);
  }
  EXPECT_GT(inside, kKills / 2) << "too few kills landed inside a dump";
  std::printf("[   INFO   ] %d kills over a %lld ms dump of %d processes, %d inside it\n", kKills,
              static_cast<long long>(dump.count() / 1000), kProcesses, inside);
}

}  // namespace
}  // namespace ckpt::test
