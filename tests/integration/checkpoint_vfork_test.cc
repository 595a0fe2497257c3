// vfork and checkpoints: a freeze that catches a vfork child before its execve must not hang the
// checkpoint (the parent waits in the kernel, out of reach of a ptrace interrupt). A shell
// starting commands in a tight loop (dash starts each with vfork) checkpoints every time; a
// vfork child that never calls execve is refused within seconds, and the container goes on.
#include <gtest/gtest.h>

#include <filesystem>

#include "container_fixture.h"
#include "harness.h"

namespace ckpt::test {
namespace {

using std::chrono::seconds;

TEST(CheckpointVfork, ShellStartingCommandsInALoopCheckpointsEveryTime) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  TempDir dir("ckpt-vfork");
  std::string id = unique_name("vforkloop");
  cli.track(id);
  // Every iteration vforks /bin/true and a mv: most freezes land near a vfork.
  auto spec = write_spec(cli, id,
                         {"/bin/sh", "-c",
                          "i=0; while :; do i=$((i+1)); /bin/true; echo $i > /mnt/n.tmp; "
                          "mv /mnt/n.tmp /mnt/n; done"},
                         report_mount(dir.path()));
  ASSERT_EQ(cli({"run", "-d", spec}).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return !slurp(dir.file("n")).empty(); }));
  for (int round = 0; round < 10; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::string image = cli.scratch().file("image" + std::to_string(round));
    auto ck =
        cli({"checkpoint", "--leave-running", "--compress", "none", "--image-path", image, id},
            seconds(60));
    ASSERT_EQ(ck.exit_code, 0) << ck.err;
    std::filesystem::remove_all(image);
  }
  std::string before = slurp(dir.file("n"));
  EXPECT_TRUE(wait_until([&] { return slurp(dir.file("n")) != before; }))
      << "the loop stopped after the checkpoints";
}

TEST(CheckpointVfork, VforkChildThatNeverExecsIsRefusedQuickly) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  TempDir dir("ckpt-vfork");
  std::string id = unique_name("vforkhold");
  cli.track(id);
  auto spec = write_spec(cli, id, {workload("vfork_hold"), "/mnt"}, report_mount(dir.path()));
  ASSERT_EQ(cli({"run", "-d", spec}).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(dir.file("ready")); }));
  std::string image = cli.scratch().file("image");
  // A hang would show as the command's timeout (exit -1) rather than a refusal.
  auto ck = cli({"checkpoint", "--image-path", image, id}, seconds(60));
  EXPECT_EQ(ck.exit_code, 1) << ck.out;
  EXPECT_NE(ck.err.find("pid 2 (vfork_hold) shares the address space of its parent pid 1 "
                        "(vfork_hold)"),
            std::string::npos)
      << ck.err;
  EXPECT_EQ(ck.err.find('\n'), ck.err.size() - 1) << "one line: " << ck.err;
  EXPECT_FALSE(std::filesystem::exists(image));
  EXPECT_NE(cli({"state", id}).out.find("\"running\""), std::string::npos);
}

}  // namespace
}  // namespace ckpt::test
