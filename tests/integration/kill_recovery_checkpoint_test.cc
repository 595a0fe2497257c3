// SIGKILL of `crun-ckpt checkpoint` at delays spread over the whole dump of a container with
// several processes and a few hundred MiB. After each kill, with no command that could repair
// anything (only `state`, which reads), the checkpoint's guardian must within seconds leave the
// container as the checkpoint found it (running, or paused if it was paused) and no partial
// image; a committed image, if the kill came after the commit, must be whole; and the next
// checkpoint must succeed.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>

#include "container_fixture.h"
#include "harness.h"
#include "kill_recovery.h"

namespace ckpt::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kProcesses = 4;
constexpr int kMibEach = 50;  // 200 MiB in all: a dump long enough to be killed in its middle

long counter_of(const TempDir& dir, const std::string& pid) {
  std::string text = slurp(dir.file("status-" + pid));
  return text.rfind("counter=", 0) == 0 ? std::stol(text.substr(8)) : -1;
}

// A selfcheck tree (tests/workloads/selfcheck.cc) writing its counters into a report dir.
class Tree {
 public:
  explicit Tree(Cli& cli) : cli_(cli), id_(unique_name("kck")), dir_("ckpt-report") {
    cli_.track(id_);
    spec_ = write_spec(cli_, id_,
                       {workload("selfcheck"), "/mnt", std::to_string(kMibEach), "--tree",
                        std::to_string(kProcesses)},
                       report_mount(dir_.path()));
  }
  ~Tree() { cli_({"delete", "-f", id_}); }  // before the report dir goes

  const std::string& id() const { return id_; }
  const std::string& spec() const { return spec_; }

  bool start() {
    auto r = cli_({"run", "-d", spec_});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return wait_until(
        [&] {
          auto pids = status_pids(dir_.path());
          if (pids.size() != kProcesses) return false;
          for (const auto& pid : pids)
            if (counter_of(dir_, pid) < 3) return false;
          return true;
        },
        seconds(60));
  }

  // Every process still counts: none was left stopped or frozen (or killed).
  bool all_advance() {
    std::map<std::string, long> before;
    for (const auto& pid : status_pids(dir_.path())) before[pid] = counter_of(dir_, pid);
    return before.size() == kProcesses && wait_until([&] {
             for (const auto& [pid, n] : before)
               if (counter_of(dir_, pid) <= n) return false;
             return true;
           });
  }

  // No process counts for a while: the container really is frozen.
  bool none_advances() {
    std::map<std::string, long> before;
    for (const auto& pid : status_pids(dir_.path())) before[pid] = counter_of(dir_, pid);
    struct timespec ts = {0, 300'000'000};
    nanosleep(&ts, nullptr);
    for (const auto& [pid, n] : before)
      if (counter_of(dir_, pid) != n) return false;
    return true;
  }

 private:
  Cli& cli_;
  std::string id_;
  TempDir dir_;
  std::string spec_;
};

// Waits for the guardian's recovery: no partial image and the container in `status`.
bool recovered(const Cli& cli, const std::string& id, const std::string& image,
               const std::string& status) {
  return wait_until([&] { return partials_of(image).empty() && status_of(cli, id) == status; },
                    seconds(5));
}

bool image_verifies(const Cli& cli, const std::string& image) {
  auto r = cli({"image", "verify", image}, seconds(60));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0;
}

TEST(KillRecovery, CheckpointLeaveRunningKilledAtAnyPointIsUndone) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  Tree tree(cli);
  ASSERT_TRUE(tree.start());
  std::string image = cli.scratch().file("image"), next = cli.scratch().file("next");
  auto dump = time_command(cli, {"checkpoint", "--leave-running", "--image-path", next, tree.id()});
  std::filesystem::remove_all(next);
  int undone = 0;
  // Past the end too: a kill after the commit must leave the whole image and a running container.
  for (auto delay : spread(dump * 11 / 10, 8)) {
    SCOPED_TRACE("killed after " + std::to_string(delay.count() / 1000) + " ms");
    KillResult kill = run_killed_after(
        cli, {"checkpoint", "--leave-running", "--image-path", image, tree.id()}, delay);
    EXPECT_TRUE(recovered(cli, tree.id(), image, "running"))
        << "state: " << status_of(cli, tree.id()) << ", partials: " << partials_of(image).size();
    if (std::filesystem::exists(image)) {
      EXPECT_TRUE(image_verifies(cli, image)) << "a committed image must be whole";
      std::filesystem::remove_all(image);
    } else if (kill.hit_running) {
      ++undone;
    }
    EXPECT_TRUE(tree.all_advance()) << "a process stopped running after the killed checkpoint";
    auto ck = cli({"checkpoint", "--leave-running", "--image-path", next, tree.id()}, seconds(120));
    EXPECT_EQ(ck.exit_code, 0) << "the next checkpoint: " << ck.err;
    std::filesystem::remove_all(next);
  }
  EXPECT_GT(undone, 0) << "no kill landed inside a dump: the test exercised nothing";
  std::printf("[   INFO   ] 8 kills over a %lld ms dump, %d inside it\n",
              static_cast<long long>(dump.count() / 1000), undone);
}

TEST(KillRecovery, CheckpointKilledAtAnyPointIsUndoneOrFinished) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  Tree tree(cli);
  ASSERT_TRUE(tree.start());
  std::string image = cli.scratch().file("image"), next = cli.scratch().file("next");
  auto dump = time_command(cli, {"checkpoint", "--leave-running", "--image-path", next, tree.id()});
  std::filesystem::remove_all(next);
  int undone = 0;
  for (auto delay : spread(dump * 12 / 10, 6)) {
    SCOPED_TRACE("killed after " + std::to_string(delay.count() / 1000) + " ms");
    KillResult kill =
        run_killed_after(cli, {"checkpoint", "--image-path", image, tree.id()}, delay);
    // Before the commit point the container runs on with no image; after it the image is whole
    // and the container either still runs (not stopped yet) or is gone entirely (the guardian
    // finished stopping it, so its name is free for the restore).
    bool settled = wait_until(
        [&] {
          if (!partials_of(image).empty()) return false;
          std::string status = status_of(cli, tree.id());
          return status == "running" || (status.empty() && std::filesystem::exists(image));
        },
        seconds(5));
    EXPECT_TRUE(settled) << "state: " << status_of(cli, tree.id())
                         << ", image: " << std::filesystem::exists(image)
                         << ", partials: " << partials_of(image).size();
    if (std::filesystem::exists(image)) {
      EXPECT_TRUE(image_verifies(cli, image));
    }
    if (status_of(cli, tree.id()).empty()) {
      EXPECT_NO_LEFTOVERS(cli, tree.id());
      ASSERT_TRUE(tree.start()) << "the name must be free again";
    } else {
      if (!std::filesystem::exists(image) && kill.hit_running) ++undone;
      EXPECT_TRUE(tree.all_advance()) << "a process stopped running after the killed checkpoint";
    }
    std::filesystem::remove_all(image);
  }
  EXPECT_GT(undone, 0) << "no kill landed inside a dump: the test exercised nothing";
  std::printf("[   INFO   ] 6 kills over a %lld ms dump, %d inside it\n",
              static_cast<long long>(dump.count() / 1000), undone);
  auto ck = cli({"checkpoint", "--image-path", next, tree.id()}, seconds(120));
  EXPECT_EQ(ck.exit_code, 0) << ck.err;
  EXPECT_NO_LEFTOVERS(cli, tree.id());
  EXPECT_TRUE(image_verifies(cli, next));
}

// The checkpoint freezes the cgroup for an instant; a kill inside that window is simulated
// deterministically by freezing the container mid-dump (`pause`), as the checkpoint would: the
// container was running when the checkpoint began, so the guardian must thaw it.
TEST(KillRecovery, CheckpointKilledWhileFrozenIsThawed) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  Tree tree(cli);
  ASSERT_TRUE(tree.start());
  std::string image = cli.scratch().file("image");
  Background ck(cli, {"checkpoint", "--compress", "zstd:19", "--image-path", image, tree.id()});
  // Files in the partial image: the seize (whose thaw would undo our freeze) is over.
  ASSERT_TRUE(wait_until(
      [&] {
        auto partials = partials_of(image);
        std::error_code ec;
        return !partials.empty() && !std::filesystem::is_empty(partials.front(), ec) && !ec;
      },
      seconds(30)));
  ASSERT_EQ(cli({"pause", tree.id()}).exit_code, 0);
  ASSERT_EQ(status_of(cli, tree.id()), "paused");
  ASSERT_TRUE(ck.kill()) << "the checkpoint ended before it could be killed";
  EXPECT_TRUE(recovered(cli, tree.id(), image, "running"));
  EXPECT_FALSE(std::filesystem::exists(image));
  EXPECT_TRUE(tree.all_advance());
}

// A paused container stays paused through a checkpoint: killed part-way, or completed with
// --leave-running (the checkpoint thaws it to inject syscalls, then freezes it again before it
// lets the tasks go, so they never run).
TEST(KillRecovery, PausedContainerStaysPausedThroughKilledAndCompletedCheckpoints) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  Tree tree(cli);
  ASSERT_TRUE(tree.start());
  ASSERT_EQ(cli({"pause", tree.id()}).exit_code, 0);
  std::string image = cli.scratch().file("image");
  auto dump =
      time_command(cli, {"checkpoint", "--leave-running", "--image-path", image, tree.id()});
  EXPECT_EQ(status_of(cli, tree.id()), "paused");
  EXPECT_TRUE(tree.none_advances()) << "tasks ran after a checkpoint of a paused container";
  std::filesystem::remove_all(image);
  for (auto delay : spread(dump * 8 / 10, 3)) {
    SCOPED_TRACE("killed after " + std::to_string(delay.count() / 1000) + " ms");
    run_killed_after(cli, {"checkpoint", "--leave-running", "--image-path", image, tree.id()},
                     delay);
    EXPECT_TRUE(recovered(cli, tree.id(), image, "paused"))
        << "state: " << status_of(cli, tree.id());
    EXPECT_TRUE(tree.none_advances());
    std::filesystem::remove_all(image);
  }
  ASSERT_EQ(cli({"resume", tree.id()}).exit_code, 0);
  EXPECT_TRUE(tree.all_advance());
}

}  // namespace
}  // namespace ckpt::test
