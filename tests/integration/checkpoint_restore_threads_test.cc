// Checkpoint and restore of a multi-threaded container through the crun-ckpt binary. The
// workload (tests/workloads/threads.cc) reports from inside every thread's tid and counter and
// whether a sum it keeps in AVX2 registers survived: after the restore the tids must be the
// same, every counter must go on from where it was, the vector registers must be intact, and
// every thread must keep its own name. Two rounds: a --leave-running checkpoint then delete,
// and a plain checkpoint (which kills the traced 16-thread container itself).
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "container_fixture.h"
#include "harness.h"

namespace ckpt::test {
namespace {

using std::chrono::seconds;

struct ThreadLine {
  long tid = -1;
  long counter = -1;
  std::string name;
};

struct ThreadsReport {
  std::map<int, ThreadLine> threads;
  std::string avx;
  long avx_checks = -1;
};

ThreadsReport parse(const std::string& text) {
  ThreadsReport r;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    int index = -1;
    long tid = 0, counter = 0;
    char avx[16] = {};
    char name[32] = {};
    long checks = 0;
    if (std::sscanf(line.c_str(), "thread=%d tid=%ld counter=%ld name=%31s", &index, &tid, &counter,
                    name) == 4) {
      r.threads[index] = {tid, counter, name};
    } else if (std::sscanf(line.c_str(), "avx=%15s checks=%ld", avx, &checks) == 2) {
      r.avx = avx;
      r.avx_checks = checks;
    }
  }
  return r;
}

// A container running the threads workload with its report directory at /mnt.
class ThreadsContainer {
 public:
  explicit ThreadsContainer(Cli& cli) : cli_(cli), id_(unique_name("threads")), dir_("ckpt-thr") {
    cli_.track(id_);
    spec_ = write_spec(cli_, id_, {workload("threads"), "/mnt"}, report_mount(dir_.path()));
  }
  const std::string& id() const { return id_; }
  const std::string& spec() const { return spec_; }

  // Sends SIGUSR1 to the container's init and waits for its complete report.
  ThreadsReport report() {
    // SIGUSR1 before the workload's handler is in would end it: wait for its ready mark.
    EXPECT_TRUE(wait_until([&] { return !slurp(dir_.file("ready")).empty(); }, seconds(60)))
        << "container " << id_ << " never became ready";
    std::filesystem::remove(dir_.file("report"));
    EXPECT_EQ(cli_({"kill", id_, "USR1"}).exit_code, 0);
    std::string text = wait_for_report(dir_.file("report"), seconds(60));
    EXPECT_FALSE(text.empty()) << "no report from container " << id_;
    return parse(text);
  }

  // The container goes before its report directory, which it writes into while it runs.
  ~ThreadsContainer() { cli_({"delete", "-f", id_}); }

 private:
  Cli& cli_;
  std::string id_;
  TempDir dir_;
  std::string spec_;
};

// Waits until every thread of the restored container ran past `before`, then checks tids,
// names and the vector registers.
void expect_continued(ThreadsContainer& c, const ThreadsReport& before) {
  ThreadsReport after;
  // The counters must move past the checkpoint values, which are at least the report's.
  bool advanced = wait_until(
      [&] {
        after = c.report();
        if (after.threads.size() != 16 || after.avx_checks <= before.avx_checks) return false;
        for (const auto& [i, t] : after.threads)
          if (t.counter <= before.threads.at(i).counter) return false;
        return true;
      },
      seconds(60));
  ASSERT_EQ(after.threads.size(), 16u);
  for (auto& [i, t] : after.threads) {
    SCOPED_TRACE("thread " + std::to_string(i));
    EXPECT_EQ(t.tid, before.threads.at(i).tid);
    EXPECT_GT(t.counter, before.threads.at(i).counter);
    EXPECT_EQ(t.name, before.threads.at(i).name) << "the thread's own name was lost";
  }
  EXPECT_TRUE(advanced) << "some thread did not run after the restore";
  if (before.avx != "skipped") {
    EXPECT_EQ(after.avx, "ok") << "a sum kept in ymm registers was lost across the restore";
    EXPECT_GT(after.avx_checks, before.avx_checks);
  }
}

TEST(CheckpointRestore, SixteenThreadsKeepTidsCountersNamesAndAvxState) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  ThreadsContainer c(cli);
  ASSERT_EQ(cli({"run", "-d", c.spec()}).exit_code, 0);
  ThreadsReport before;
  // Wait until every thread has counted a few times (the first reports may predate that).
  ASSERT_TRUE(wait_until(
      [&] {
        before = c.report();
        if (before.threads.size() != 16) return false;
        for (const auto& [i, t] : before.threads)
          if (t.counter < 3) return false;
        return true;
      },
      seconds(60)));
  EXPECT_EQ(before.threads[0].tid, 1);
  EXPECT_EQ(before.threads[0].name, "thr-main");
  for (int i = 1; i < 16; ++i) {
    EXPECT_EQ(before.threads[i].name, "worker-" + std::to_string(i)) << "the workload's names";
  }
  if (before.avx != "skipped") {
    EXPECT_EQ(before.avx, "ok");
  }

  // Round 1: --leave-running, then delete.
  std::string image = cli.scratch().file("image");
  auto ck = cli({"checkpoint", "--leave-running", "--image-path", image, c.id()}, seconds(120));
  ASSERT_EQ(ck.exit_code, 0) << ck.err;
  ASSERT_EQ(cli({"delete", "-f", c.id()}).exit_code, 0);
  auto rs = cli({"restore", "-d", "--image-path", image}, seconds(120));
  ASSERT_EQ(rs.exit_code, 0) << rs.err;
  {
    SCOPED_TRACE("after the --leave-running checkpoint");
    expect_continued(c, before);
  }

  // Round 2: a plain checkpoint kills the traced multi-threaded container; it must end (no
  // hang collecting the threads' exits) and the image restore like the first.
  before = c.report();
  ASSERT_EQ(before.threads.size(), 16u);
  std::string image2 = cli.scratch().file("image2");
  auto ck2 = cli({"checkpoint", "--image-path", image2, c.id()}, seconds(120));
  ASSERT_EQ(ck2.exit_code, 0) << ck2.err;
  auto rs2 = cli({"restore", "-d", "--image-path", image2}, seconds(120));
  ASSERT_EQ(rs2.exit_code, 0) << rs2.err;
  {
    SCOPED_TRACE("after the plain checkpoint");
    expect_continued(c, before);
  }
  if (before.avx == "skipped") {
    GTEST_SKIP() << "the CPU lacks AVX2: vector-register part not checked";
  }
}

}  // namespace
}  // namespace ckpt::test
