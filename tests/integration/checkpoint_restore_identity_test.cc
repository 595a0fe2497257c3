// Containers that could not be checkpointed or started at all: a workload running as a
// non-root uid (reading its rlimits with prlimit(2) needed CAP_SYS_RESOURCE, which root lacks
// on these hosts), and a program that lives on a bind mount (looked up on the host before the
// container's mounts existed). What each workload reports from inside decides.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "container_fixture.h"
#include "harness.h"

namespace ckpt::test {
namespace {

using std::chrono::seconds;

// The report without its counter: everything that must come back unchanged.
std::string identity_of(const std::string& report) {
  std::map<std::string, std::string> kv = parse_key_values(report);
  kv.erase("counter");
  std::string out;
  for (const auto& [k, v] : kv) out += k + "=" + v + " ";
  return out;
}

long counter_of(const std::string& report) {
  return std::stol(parse_key_values(report).at("counter"));
}

TEST(CheckpointRestoreIdentity, NonRootWorkloadKeepsItsIdsAndRlimits) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  TempDir dir("ckpt-report");
  // The workload writes its reports as uid 1000.
  ASSERT_EQ(::chmod(dir.path().c_str(), 0777), 0);
  std::string id = unique_name("uid1000");
  cli.track(id);
  std::string spec = cli.scratch().write(
      id + ".yaml", "name: " + id +
                        "\nprocess:\n  args: " + yaml_list({workload("identity"), "/mnt", "2"}) +
                        "\n  user: {uid: 1000, gid: 1000}\n" + report_mount(dir.path()));
  auto run = cli({"run", "-d", spec});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_TRUE(wait_until([&] { return status_pids(dir.path()).size() == 3; }, seconds(30)));
  auto before = request_reports(cli, id, dir.path(), 3);
  ASSERT_EQ(before.size(), 3u);
  for (const auto& [pid, report] : before) {
    SCOPED_TRACE(pid);
    auto kv = parse_key_values(report);
    EXPECT_EQ(kv["uid"], "1000/1000/1000");
    EXPECT_EQ(kv["gid"], "1000/1000/1000");
    EXPECT_EQ(kv["rlimit7"], "777/888") << "RLIMIT_NOFILE as the workload set it";
    EXPECT_EQ(kv["rlimit15"], "250000/500000") << "RLIMIT_RTTIME, in microseconds";
  }

  std::string image = cli.scratch().file("image");
  auto ck = cli({"checkpoint", "--image-path", image, id}, seconds(120));
  ASSERT_EQ(ck.exit_code, 0) << ck.err;
  auto rs = cli({"restore", "-d", "--image-path", image}, seconds(120));
  ASSERT_EQ(rs.exit_code, 0) << rs.err;

  auto after = request_reports(cli, id, dir.path(), 3);
  ASSERT_EQ(after.size(), 3u);
  for (const auto& [pid, report] : after) {
    SCOPED_TRACE(pid);
    ASSERT_TRUE(before.count(pid));
    EXPECT_EQ(identity_of(report), identity_of(before[pid]));
    EXPECT_GE(counter_of(report), counter_of(before[pid])) << "the counter restarted";
  }
}

TEST(CheckpointRestoreIdentity, ProgramOnABindMountRunsAndIsCheckpointed) {
  CKPT_REQUIRE_ROOT();
  TempDir bin("ckpt-bin");
  std::filesystem::copy_file(workload("identity"), bin.file("app"));
  ASSERT_EQ(::chmod(bin.file("app").c_str(), 0755), 0);
  TempDir dir("ckpt-report");
  Cli cli;
  std::string id = unique_name("bindapp");
  cli.track(id);
  // The program is visible only inside, at /opt/app, through the bind mount.
  auto spec = write_spec(cli, id, {"/opt/app", "/mnt"},
                         report_mount(dir.path()) + "  - {type: bind, source: " + bin.path() +
                             ", destination: /opt}\n");
  auto run = cli({"run", "-d", spec});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto before = request_reports(cli, id, dir.path(), 1);
  ASSERT_EQ(before.size(), 1u);
  std::string image = cli.scratch().file("image");
  auto ck = cli({"checkpoint", "--image-path", image, id}, seconds(120));
  ASSERT_EQ(ck.exit_code, 0) << ck.err;
  // The restore used to run the same host-side lookup as run, and refused too.
  auto rs = cli({"restore", "-d", "--image-path", image}, seconds(120));
  ASSERT_EQ(rs.exit_code, 0) << rs.err;
  auto after = request_reports(cli, id, dir.path(), 1);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_GE(counter_of(after["1"]), counter_of(before["1"]));
}

TEST(CheckpointRestoreIdentity, MissingProgramOnABindMountIsOneLineAnd127) {
  CKPT_REQUIRE_ROOT();
  TempDir bin("ckpt-bin");
  Cli cli;
  for (bool detach : {false, true}) {
    SCOPED_TRACE(detach ? "run -d" : "run");
    std::string id = unique_name("nobin");
    cli.track(id);
    auto spec =
        write_spec(cli, id, {"/opt/nope"},
                   "mounts:\n  - {type: bind, source: " + bin.path() + ", destination: /opt}\n");
    auto r = detach ? cli({"run", "-d", spec}) : cli({"run", spec});
    EXPECT_EQ(r.exit_code, 127) << r.err;
    EXPECT_NE(r.err.find("/opt/nope"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("not found in the container"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NO_LEFTOVERS(cli, id);
  }
}

}  // namespace
}  // namespace ckpt::test
