// Checkpoints that must be refused before anything is frozen or dumped, in one line naming the
// reason, with the container left running: a second checkpoint of the same container, a second
// checkpoint into the same image path, an image path that is a symlink. And the cleanup and
// checks around them: stale partials of dead writers are removed by the next checkpoint, and an
// image that fails verification after the commit is withdrawn before the original is stopped.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "container_fixture.h"
#include "harness.h"
#include "kill_recovery.h"

namespace ckpt::test {
namespace {

using std::chrono::seconds;

long counter_of(const TempDir& dir) {
  std::string text = slurp(dir.file("status-1"));
  return text.rfind("counter=", 0) == 0 ? std::stol(text.substr(8)) : -1;
}

size_t lines(const std::string& text) {
  return std::count(text.begin(), text.end(), '\n');
}

// A one-process selfcheck container with `mib` MiB; deleted before its report dir goes.
class Single {
 public:
  Single(Cli& cli, int mib) : cli_(cli), id_(unique_name("ref")), dir_("ckpt-report") {
    cli_.track(id_);
    spec_ = write_spec(cli_, id_, {workload("selfcheck"), "/mnt", std::to_string(mib)},
                       report_mount(dir_.path()));
  }
  ~Single() { cli_({"delete", "-f", id_}); }
  const std::string& id() const { return id_; }
  bool start() {
    EXPECT_EQ(cli_({"run", "-d", spec_}).exit_code, 0);
    return wait_until([&] { return counter_of(dir_) >= 3; }, seconds(60));
  }
  // Still running and counting.
  bool runs() {
    if (status_of(cli_, id_) != "running") return false;
    long now = counter_of(dir_);
    return wait_until([&] { return counter_of(dir_) > now; });
  }

 private:
  Cli& cli_;
  std::string id_;
  TempDir dir_;
  std::string spec_;
};

// A checkpoint held still (SIGSTOP) once it is past its start, so its lock and its partial
// image exist for as long as a test needs them, however fast the machine is.
class HeldCheckpoint {
 public:
  HeldCheckpoint(Cli& cli, const std::string& id, const std::string& image)
      : run_(cli, {"checkpoint", "--leave-running", "--image-path", image, id}) {
    held_ = wait_until([&] { return !partials_of(image).empty(); }, seconds(30)) &&
            ::kill(run_.pid(), SIGSTOP) == 0 &&
            wait_until([&] { return process_state(run_.pid()) == 'T'; }, seconds(10));
  }
  ~HeldCheckpoint() { ::kill(run_.pid(), SIGCONT); }
  bool held() const { return held_; }
  pid_t pid() const { return run_.pid(); }
  // Lets it go on; its exit code.
  int finish() {
    ::kill(run_.pid(), SIGCONT);
    return run_.wait();
  }

 private:
  static char process_state(pid_t pid) {
    std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
    size_t close = stat.rfind(") ");
    return close == std::string::npos ? '?' : stat[close + 2];
  }
  Background run_;
  bool held_ = false;
};

TEST(CheckpointRefusals, SecondCheckpointOfAContainerIsRefusedNamingTheFirst) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  Single c(cli, 64);
  ASSERT_TRUE(c.start());
  std::string first = cli.scratch().file("first"), second = cli.scratch().file("second");
  HeldCheckpoint held(cli, c.id(), first);
  ASSERT_TRUE(held.held());
  auto r = cli({"checkpoint", "--leave-running", "--image-path", second, c.id()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("already in progress (crun-ckpt pid " + std::to_string(held.pid()) + ")"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(second));
  EXPECT_TRUE(partials_of(second).empty());
  // The first one is undisturbed and completes.
  EXPECT_EQ(held.finish(), 0);
  EXPECT_EQ(cli({"image", "verify", first}).exit_code, 0);
  EXPECT_TRUE(c.runs());
}

TEST(CheckpointRefusals, SecondCheckpointIntoTheSameImagePathIsRefusedBeforeDumping) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  Single a(cli, 64), b(cli, 4);
  ASSERT_TRUE(a.start());
  ASSERT_TRUE(b.start());
  std::string image = cli.scratch().file("image");
  HeldCheckpoint held(cli, a.id(), image);
  ASSERT_TRUE(held.held());
  auto r = cli({"checkpoint", "--image-path", image, b.id()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("another checkpoint (pid " + std::to_string(held.pid()) + ")"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(b.runs()) << "the refused checkpoint (default: stop) must not stop its container";
  EXPECT_EQ(partials_of(image).size(), 1u) << "the live writer's partial must be left alone";
  EXPECT_EQ(held.finish(), 0);
  auto verify = cli({"image", "verify", image});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_NE(slurp(image + "/manifest.json").find("\"" + a.id() + "\""), std::string::npos)
      << "the image at the path is not the first checkpoint's";
}

TEST(CheckpointRefusals, SymlinkImagePathIsRefusedBeforeDumping) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  Single c(cli, 4);
  ASSERT_TRUE(c.start());
  std::string empty = cli.scratch().file("empty");
  ASSERT_EQ(::mkdir(empty.c_str(), 0700), 0);
  std::string to_empty = cli.scratch().file("to-empty"), dangling = cli.scratch().file("dangling");
  ASSERT_EQ(::symlink(empty.c_str(), to_empty.c_str()), 0);
  ASSERT_EQ(::symlink("/nonexistent/image", dangling.c_str()), 0);
  for (const auto& link : {to_empty, dangling}) {
    SCOPED_TRACE(link);
    auto r = cli({"checkpoint", "--image-path", link, c.id()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find(link + " is a symbolic link"), std::string::npos) << r.err;
    EXPECT_TRUE(partials_of(link).empty()) << "a refused path must get no partial image";
    EXPECT_TRUE(std::filesystem::is_symlink(link));
    EXPECT_TRUE(c.runs());
  }
  EXPECT_TRUE(std::filesystem::is_empty(empty));
}

TEST(CheckpointRefusals, NextCheckpointRemovesStalePartialsOfDeadWritersOnly) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  Single c(cli, 4);
  ASSERT_TRUE(c.start());
  std::string image = cli.scratch().file("image");
  auto partial = [&](pid_t pid) {
    std::string path = cli.scratch().file(".image.partial-" + std::to_string(pid));
    EXPECT_EQ(::mkdir(path.c_str(), 0700), 0);
    cli.scratch().write(".image.partial-" + std::to_string(pid) + "/pages-1", "half a dump");
    return path;
  };
  // A writer that died: a real pid, reaped, gone.
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  ASSERT_GT(dead, 0);
  waitpid(dead, nullptr, 0);
  std::string of_dead = partial(dead);
  // A name whose pid now belongs to a live, unrelated process (ours): its writer is dead too.
  std::string of_recycled = partial(getpid());
  auto r = cli({"checkpoint", "--leave-running", "--image-path", image, c.id()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(std::filesystem::exists(of_dead));
  EXPECT_FALSE(std::filesystem::exists(of_recycled));
  std::filesystem::remove_all(image);

  // A live writer (one holding its partial's lock, as every writer does) is never touched: the
  // checkpoint is refused instead.
  std::string of_live = partial(getpid());
  int fd = ::open(of_live.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  auto refused = cli({"checkpoint", "--leave-running", "--image-path", image, c.id()});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("another checkpoint (pid " + std::to_string(getpid()) + ")"),
            std::string::npos)
      << refused.err;
  EXPECT_TRUE(std::filesystem::exists(of_live + "/pages-1"));
  ::close(fd);
  EXPECT_TRUE(c.runs());
}

TEST(CheckpointRefusals, ImageFailingVerificationIsWithdrawnAndTheContainerKeepsRunning) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  Single c(cli, 16);
  ASSERT_TRUE(c.start());
  for (bool leave_running : {false, true}) {
    SCOPED_TRACE(leave_running ? "--leave-running" : "default (stop)");
    std::string image = cli.scratch().file(leave_running ? "image-lr" : "image");
    std::vector<std::string> args = {
        "checkpoint", "--test-fail-at", "verify", "--image-path", image, c.id()};
    if (leave_running) args.insert(args.begin() + 1, "--leave-running");
    auto r = cli(args);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("failed verification"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("checksum mismatch"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(image));
    EXPECT_TRUE(partials_of(image).empty());
    EXPECT_TRUE(c.runs()) << "the original was stopped although its image was bad";
  }
}

}  // namespace
}  // namespace ckpt::test
