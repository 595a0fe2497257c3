// Checkpoint and restore of whole containers through the crun-ckpt binary. The workload
// (tests/workloads/selfcheck.cc) reports from inside what it observes after the restore: its
// pid, parent, group, session, a counter that must continue rather than restart, and the
// digest of its memory.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "container_fixture.h"
#include "harness.h"

namespace ckpt::test {
namespace {

using std::chrono::seconds;

struct Report {
  std::map<std::string, std::string> fields;
  const std::string& operator[](const std::string& key) { return fields[key]; }
  long number(const std::string& key) { return std::stol(fields[key]); }
};

Report parse_report(const std::string& text) {
  return Report{parse_key_values(text)};
}

long counter_of(const TempDir& dir, const std::string& pid) {
  std::string text = slurp(dir.file("status-" + pid));
  return text.rfind("counter=", 0) == 0 ? std::stol(text.substr(8)) : -1;
}

// A container running selfcheck with its report directory bind-mounted at /report.
class SelfcheckContainer {
 public:
  SelfcheckContainer(Cli& cli, const std::string& prefix, int mib, int processes = 1)
      : cli_(cli), id_(unique_name(prefix)), dir_("ckpt-report") {
    cli_.track(id_);
    std::vector<std::string> args = {workload("selfcheck"), "/mnt", std::to_string(mib)};
    if (processes > 1) {
      args.push_back("--tree");
      args.push_back(std::to_string(processes));
    }
    spec_ = write_spec(cli_, id_, args, report_mount(dir_.path()));
  }
  // The container goes before its report directory: a running workload would keep writing
  // into the directory while it is removed.
  ~SelfcheckContainer() { cli_({"delete", "-f", id_}); }
  const std::string& id() const { return id_; }
  const std::string& spec() const { return spec_; }
  TempDir& dir() { return dir_; }

  // The container pids that write status files.
  std::vector<std::string> pids() const { return status_pids(dir_.path()); }

  bool wait_running(size_t processes) const {
    return wait_until(
        [&] {
          auto p = pids();
          if (p.size() != processes) return false;
          for (const auto& pid : p)
            if (counter_of(dir_, pid) < 3) return false;
          return true;
        },
        std::chrono::seconds(60));
  }

  // Asks every process of container `id` for a report and waits for all of them.
  std::map<std::string, Report> reports(const std::string& id, size_t processes) {
    std::map<std::string, Report> out;
    for (const auto& [pid, text] : request_reports(cli_, id, dir_.path(), processes))
      out[pid] = parse_report(text);
    return out;
  }

 private:
  Cli& cli_;
  std::string id_;
  TempDir dir_;
  std::string spec_;
};

TEST(CheckpointRestore, SingleProcessKeepsPidMemoryAndCounter) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  SelfcheckContainer c(cli, "one", 256);
  ASSERT_EQ(cli({"run", "-d", c.spec()}).exit_code, 0);
  ASSERT_TRUE(c.wait_running(1));
  auto before = c.reports(c.id(), 1);
  std::string image = cli.scratch().file("image");
  auto ck = cli({"checkpoint", "--image-path", image, "--compress", "none", c.id()}, seconds(120));
  ASSERT_EQ(ck.exit_code, 0) << ck.err;
  EXPECT_NE(ck.out.find("checkpointed " + c.id()), std::string::npos) << ck.out;
  long at_checkpoint = counter_of(c.dir(), "1");
  EXPECT_EQ(cli({"state", c.id()}).exit_code, 1) << "the checkpoint removes the container";

  auto rs = cli({"restore", "-d", "--image-path", image}, seconds(120));
  ASSERT_EQ(rs.exit_code, 0) << rs.err;
  auto after = c.reports(c.id(), 1);
  ASSERT_EQ(after.size(), 1u);
  Report& r = after["1"];
  EXPECT_EQ(r["pid"], "1");
  EXPECT_EQ(r["digest"], before["1"]["digest"]);
  EXPECT_EQ(r["digest"], r["start_digest"]);
  EXPECT_GE(r.number("counter"), at_checkpoint) << "the counter restarted instead of continuing";
  EXPECT_GT(at_checkpoint, 2);
  auto ps = cli({"ps", "--json", c.id()});
  EXPECT_NE(ps.out.find("\"name\":\"selfcheck\""), std::string::npos) << ps.out;
}

TEST(CheckpointRestore, TreeOfTwentyKeepsPidsParentsGroupsAndSessions) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  SelfcheckContainer c(cli, "tree", 1, 20);
  ASSERT_EQ(cli({"run", "-d", c.spec()}).exit_code, 0);
  ASSERT_TRUE(c.wait_running(20));
  auto before = c.reports(c.id(), 20);
  std::string image = cli.scratch().file("image");
  auto ck = cli({"checkpoint", "--image-path", image, c.id()}, seconds(120));
  ASSERT_EQ(ck.exit_code, 0) << ck.err;
  auto rs = cli({"restore", "-d", "--image-path", image}, seconds(120));
  ASSERT_EQ(rs.exit_code, 0) << rs.err;
  auto after = c.reports(c.id(), 20);
  ASSERT_EQ(after.size(), 20u);
  for (auto& [pid, r] : after) {
    SCOPED_TRACE("pid " + pid);
    for (const char* key : {"pid", "ppid", "pgid", "sid", "digest"})
      EXPECT_EQ(r[key], before[pid][key]) << key;
    EXPECT_GE(r.number("counter"), before[pid].number("counter"));
  }
}

TEST(CheckpointRestore, LeaveRunningAndTwoRestoresRunSideBySide) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  SelfcheckContainer c(cli, "side", 4);
  ASSERT_EQ(cli({"run", "-d", c.spec()}).exit_code, 0);
  ASSERT_TRUE(c.wait_running(1));
  std::string image = cli.scratch().file("image");
  auto ck = cli({"checkpoint", "--leave-running", "--image-path", image, c.id()}, seconds(120));
  ASSERT_EQ(ck.exit_code, 0) << ck.err;
  std::string copy1 = c.id() + "-a", copy2 = c.id() + "-b";
  cli.track(copy1);
  cli.track(copy2);
  ASSERT_EQ(cli({"restore", "-d", "--image-path", image, "--name", copy1}).exit_code, 0);
  ASSERT_EQ(cli({"restore", "-d", "--image-path", image, "--name", copy2}).exit_code, 0);
  for (const auto& id : {c.id(), copy1, copy2}) {
    SCOPED_TRACE(id);
    EXPECT_NE(cli({"state", id}).out.find("\"running\""), std::string::npos);
    auto ps = cli({"ps", "--json", id});
    EXPECT_NE(ps.out.find("\"container_pid\":1"), std::string::npos) << ps.out;
  }
}

TEST(CheckpointRestore, TwentyCyclesInARowDoNotDrift) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  SelfcheckContainer c(cli, "cycle", 8);
  ASSERT_EQ(cli({"run", "-d", c.spec()}).exit_code, 0);
  ASSERT_TRUE(c.wait_running(1));
  std::string digest = c.reports(c.id(), 1)["1"]["digest"];
  long last = counter_of(c.dir(), "1");
  for (int i = 0; i < 20; ++i) {
    SCOPED_TRACE("cycle " + std::to_string(i));
    std::string image = cli.scratch().file("image-" + std::to_string(i));
    auto ck = cli({"checkpoint", "--image-path", image, c.id()}, seconds(60));
    ASSERT_EQ(ck.exit_code, 0) << ck.err;
    long at_checkpoint = counter_of(c.dir(), "1");
    EXPECT_GE(at_checkpoint, last);
    auto rs = cli({"restore", "-d", "--image-path", image}, seconds(60));
    ASSERT_EQ(rs.exit_code, 0) << rs.err;
    ASSERT_TRUE(wait_until([&] { return counter_of(c.dir(), "1") > at_checkpoint; }))
        << "the counter did not advance after restore";
    last = counter_of(c.dir(), "1");
    std::filesystem::remove_all(image);
  }
  auto r = c.reports(c.id(), 1)["1"];
  EXPECT_EQ(r["pid"], "1");
  EXPECT_EQ(r["digest"], digest);
}

TEST(CheckpointRestore, FailureAtEveryStageLeavesTheContainerRunningAndNoImage) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  SelfcheckContainer c(cli, "fail", 4);
  ASSERT_EQ(cli({"run", "-d", c.spec()}).exit_code, 0);
  ASSERT_TRUE(c.wait_running(1));
  for (const char* stage : {"seize", "classify", "task_state", "memory", "assemble"}) {
    SCOPED_TRACE(stage);
    std::string image = cli.scratch().file(std::string("image-") + stage);
    auto ck = cli({"checkpoint", "--test-fail-at", stage, "--image-path", image, c.id()});
    EXPECT_EQ(ck.exit_code, 1);
    EXPECT_EQ(std::count(ck.err.begin(), ck.err.end(), '\n'), 1) << ck.err;
    EXPECT_FALSE(std::filesystem::exists(image));
    EXPECT_NE(cli({"state", c.id()}).out.find("\"running\""), std::string::npos);
    long now = counter_of(c.dir(), "1");
    EXPECT_TRUE(wait_until([&] { return counter_of(c.dir(), "1") > now; }))
        << "the container does not run after a failed checkpoint";
  }
  for (const auto& e : std::filesystem::directory_iterator(cli.scratch().path()))
    EXPECT_EQ(std::string(e.path().filename()).find(".partial"), std::string::npos) << e.path();
}

TEST(CheckpointRestore, KilledCheckpointLeavesTheContainerRecoverable) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  SelfcheckContainer c(cli, "sigkill", 256);
  ASSERT_EQ(cli({"run", "-d", c.spec()}).exit_code, 0);
  ASSERT_TRUE(c.wait_running(1));
  std::string image = cli.scratch().file("image");
  // Slow compression keeps the dump busy long enough to be killed in the middle of it.
  pid_t pid = fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 1);
    ::dup2(null, 2);
    execl(binary().c_str(), binary().c_str(), "--root", cli.root().c_str(), "checkpoint",
          "--compress", "zstd:19", "--image-path", image.c_str(), c.id().c_str(), nullptr);
    _exit(127);
  }
  ::usleep(400000);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  EXPECT_FALSE(std::filesystem::exists(image)) << "a killed checkpoint left an image";
  // Killed while frozen the container stays paused (resume recovers it); otherwise the kernel
  // detached every task when the tracer died and it runs on.
  std::string state = cli({"state", c.id()}).out;
  if (state.find("\"paused\"") != std::string::npos) {
    ASSERT_EQ(cli({"resume", c.id()}).exit_code, 0);
  }
  long now = counter_of(c.dir(), "1");
  EXPECT_TRUE(wait_until([&] { return counter_of(c.dir(), "1") > now; }))
      << "the container does not run after a killed checkpoint";
  auto report = c.reports(c.id(), 1);
  EXPECT_EQ(report["1"]["digest"], report["1"]["start_digest"]);
}

TEST(CheckpointRestore, TamperedOrTruncatedImageIsRefusedAndLeavesNothing) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  SelfcheckContainer c(cli, "tamper", 4);
  ASSERT_EQ(cli({"run", "-d", c.spec()}).exit_code, 0);
  ASSERT_TRUE(c.wait_running(1));
  std::string image = cli.scratch().file("image");
  ASSERT_EQ(cli({"checkpoint", "--compress", "none", "--image-path", image, c.id()}).exit_code, 0);
  std::string pages = image + "/pages-1";
  auto size = std::filesystem::file_size(pages);
  {
    std::fstream f(pages, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 2));
    char byte;
    f.read(&byte, 1);
    f.seekp(static_cast<std::streamoff>(size / 2));
    byte = static_cast<char>(byte ^ 0x40);
    f.write(&byte, 1);
  }
  auto verify = cli({"image", "verify", image});
  EXPECT_EQ(verify.exit_code, 1);
  EXPECT_NE(verify.err.find("pages-1"), std::string::npos) << verify.err;
  auto rs = cli({"restore", "-d", "--image-path", image});
  EXPECT_EQ(rs.exit_code, 1);
  EXPECT_NE(rs.err.find("pages-1"), std::string::npos) << rs.err;
  EXPECT_EQ(std::count(rs.err.begin(), rs.err.end(), '\n'), 1) << rs.err;
  EXPECT_NO_LEFTOVERS(cli, c.id());

  std::filesystem::resize_file(pages, size / 3);
  auto truncated = cli({"restore", "-d", "--image-path", image});
  EXPECT_EQ(truncated.exit_code, 1);
  EXPECT_NE(truncated.err.find("pages-1"), std::string::npos) << truncated.err;
  EXPECT_NO_LEFTOVERS(cli, c.id());
}

TEST(CheckpointRestore, UnsupportedFdRefusesNamingTaskAndFd) {
  CKPT_REQUIRE_ROOT();
  TempDir data("ckpt-sock");  // declared first: removed after the container is deleted
  Cli cli;
  std::string id = unique_name("sock");
  cli.track(id);
  auto spec = write_spec(cli, id, {workload("memhog"), "1", "/mnt/counter", "--socket"},
                         report_mount(data.path()));
  ASSERT_EQ(cli({"run", "-d", spec}).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return !slurp(data.file("counter")).empty(); }));
  std::string image = cli.scratch().file("image");
  auto ck = cli({"checkpoint", "--image-path", image, id});
  EXPECT_EQ(ck.exit_code, 1);
  EXPECT_NE(ck.err.find("pid 1"), std::string::npos) << ck.err;
  EXPECT_NE(ck.err.find("socket"), std::string::npos) << ck.err;
  EXPECT_FALSE(std::filesystem::exists(image));
  EXPECT_NE(cli({"state", id}).out.find("\"running\""), std::string::npos);
}

}  // namespace
}  // namespace ckpt::test
