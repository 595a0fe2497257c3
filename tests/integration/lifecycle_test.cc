// End-to-end container lifecycle through the crun-ckpt binary: what the workload observes
// inside, and what is left on the host afterwards.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "container_fixture.h"
#include "harness.h"
#include "ns/network.h"

namespace ckpt::test {
namespace {

using std::chrono::seconds;

TEST(Lifecycle, ExitCodePassesThroughAndNothingIsLeft) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string id = unique_name("exit");
  cli.track(id);
  auto spec = write_spec(cli, id, {"/bin/sh", "-c", "exit 42"});
  auto r = cli({"run", spec});
  EXPECT_EQ(r.exit_code, 42) << r.err;
  EXPECT_NO_LEFTOVERS(cli, id);
}

TEST(Lifecycle, WorkloadIsPidOneWithItsHostname) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string id = unique_name("pid1");
  cli.track(id);
  auto spec = write_spec(cli, id, {"/bin/sh", "-c", "echo pid=$$; cat /proc/sys/kernel/hostname"},
                         "hostname: box-" + id + "\n");
  auto r = cli({"run", spec});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "pid=1\nbox-" + id + "\n");
}

TEST(Lifecycle, MissingProgramExits127WithOneLine) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string id = unique_name("nobin");
  cli.track(id);
  auto spec = write_spec(cli, id, {"/no/such/program"});
  auto r = cli({"run", spec});
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_NE(r.err.find("/no/such/program"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NO_LEFTOVERS(cli, id);
}

TEST(Lifecycle, SpecErrorIsOneLineWithLineAndKeyAndCreatesNothing) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string id = unique_name("bad");
  auto spec = write_spec(cli, id, {"/bin/true"}, "resources: {memory: 12XB}\n");
  auto r = cli({"run", spec});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(":4:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("resources.memory"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NO_LEFTOVERS(cli, id);
}

TEST(Lifecycle, DuplicateNameIsRefused) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string id = unique_name("dup");
  cli.track(id);
  auto spec = write_spec(cli, id, {"/bin/sleep", "60"});
  ASSERT_EQ(cli({"run", "-d", spec}).exit_code, 0);
  auto r = cli({"run", "-d", spec});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
  // The refused run must not have harmed the first container.
  EXPECT_NE(cli({"state", id}).out.find("\"running\""), std::string::npos);
}

TEST(Lifecycle, BindMountIsWritableAndVisibleFromTheHost) {
  CKPT_REQUIRE_ROOT();
  TempDir data("ckpt-bind");  // declared first: removed after the container
  Cli cli;
  std::string id = unique_name("bind");
  cli.track(id);
  auto spec = write_spec(
      cli, id, {"/bin/sh", "-c", "echo hello > /mnt/out; touch /cant 2>/dev/null || echo ro"},
      "mounts:\n  - {type: bind, source: " + data.path() + ", destination: /mnt, options: [rw]}\n");
  auto r = cli({"run", spec});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ro\n");  // the root stays read-only
  EXPECT_EQ(slurp(data.file("out")), "hello\n");
}

TEST(Lifecycle, InterfaceHasItsMacAndAddressAndTheHostReachesIt) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string id = unique_name("net");
  cli.track(id);
  std::string prefix = unique_subnet_prefix();
  std::string ip = prefix + ".2";
  auto spec = write_spec(cli, id, {"/bin/sleep", "60"},
                         "network:\n  interfaces:\n    - {name: eth0, address: " + ip +
                             "/24, gateway: " + prefix + ".1, mac: \"02:00:0a:c7:00:02\"}\n");
  auto r = cli({"run", "-d", spec});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto mac = cli({"exec", id, "--", "/bin/cat", "/sys/class/net/eth0/address"});
  EXPECT_EQ(mac.out, "02:00:0a:c7:00:02\n") << mac.err;
  auto addr = cli({"exec", id, "--", "/sbin/ip", "-o", "-4", "addr", "show", "eth0"});
  EXPECT_NE(addr.out.find(ip + "/24"), std::string::npos) << addr.out << addr.err;
  auto ping = run_command({"/bin/ping", "-c", "1", "-W", "5", ip});
  EXPECT_EQ(ping.exit_code, 0) << ping.out << ping.err;
  EXPECT_EQ(cli({"delete", "-f", id}).exit_code, 0);
  EXPECT_NO_LEFTOVERS(cli, id);
}

TEST(Lifecycle, ContainersOnOneSubnetReachEachOther) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string prefix = unique_subnet_prefix();
  std::vector<std::string> ids = {unique_name("peer"), unique_name("peer")};
  for (size_t i = 0; i < ids.size(); ++i) {
    cli.track(ids[i]);
    auto spec = write_spec(cli, ids[i], {"/bin/sleep", "60"},
                           "network:\n  interfaces:\n    - {name: eth0, address: " + prefix + "." +
                               std::to_string(i + 2) + "/24, gateway: " + prefix + ".1}\n");
    ASSERT_EQ(cli({"run", "-d", spec}).exit_code, 0);
  }
  auto ping = cli({"exec", ids[0], "--", "/bin/ping", "-c", "1", "-W", "5", prefix + ".3"});
  EXPECT_EQ(ping.exit_code, 0) << ping.out << ping.err;
  for (const auto& id : ids) EXPECT_EQ(cli({"delete", "-f", id}).exit_code, 0);
  for (const auto& id : ids) EXPECT_NO_LEFTOVERS(cli, id);
  // The subnet's bridge goes with its last container.
  config::Ipv4Cidr subnet;
  subnet.address.bytes = {10, 199, static_cast<uint8_t>(std::stoi(prefix.substr(7))), 0};
  subnet.prefix = 24;
  EXPECT_FALSE(std::filesystem::exists("/sys/class/net/" + ns::bridge_name(subnet)));
}

TEST(Lifecycle, PidsLimitStopsAForkBomb) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string id = unique_name("pids");
  cli.track(id);
  auto spec = write_spec(cli, id, {workload("forkbomb"), "10000"}, "resources: {pids: 16}\n");
  auto r = cli({"run", spec}, seconds(60));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int children = -1;
  ASSERT_EQ(std::sscanf(r.out.c_str(), "children=%d", &children), 1) << r.out;
  EXPECT_GT(children, 0);
  EXPECT_LT(children, 16);
  EXPECT_NE(r.out.find("EAGAIN"), std::string::npos) << r.out;
  EXPECT_NO_LEFTOVERS(cli, id);
}

TEST(Lifecycle, MemoryLimitStopsAnOversizedWorkload) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string id = unique_name("mem");
  cli.track(id);
  auto small =
      write_spec(cli, id, {workload("touch_memory"), "128"}, "resources: {memory: 32Mi}\n");
  auto r = cli({"run", small}, seconds(60));
  EXPECT_EQ(r.exit_code, 128 + 9) << r.out << r.err;  // OOM-killed
  EXPECT_EQ(r.out.find("survived"), std::string::npos);
  // The same workload fits under a larger limit: the limit, not the workload, decided.
  std::string id2 = unique_name("mem");
  cli.track(id2);
  auto big = write_spec(cli, id2, {workload("touch_memory"), "16"}, "resources: {memory: 64Mi}\n");
  auto ok = cli({"run", big}, seconds(60));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "survived 16 MiB\n");
}

// Reads the tick counters the ticker workload writes for each of its processes.
std::vector<long> ticks(const TempDir& dir, int n) {
  std::vector<long> out;
  for (int i = 0; i < n; ++i) {
    std::string text = slurp(dir.file("tick-" + std::to_string(i)));
    out.push_back(text.empty() ? -1 : std::stol(text));
  }
  return out;
}

TEST(Lifecycle, PauseFreezesEveryTaskAndResumeContinuesThem) {
  CKPT_REQUIRE_ROOT();
  TempDir data("ckpt-ticks");  // declared first: removed after the container
  Cli cli;
  std::string id = unique_name("pause");
  cli.track(id);
  auto spec =
      write_spec(cli, id, {workload("ticker"), "/mnt", "3"},
                 "mounts:\n  - {type: bind, source: " + data.path() + ", destination: /mnt}\n");
  ASSERT_EQ(cli({"run", "-d", spec}).exit_code, 0);
  ASSERT_TRUE(wait_until([&] {
    for (long t : ticks(data, 3))
      if (t < 2) return false;
    return true;
  }));
  ASSERT_EQ(cli({"pause", id}).exit_code, 0);
  EXPECT_NE(cli({"state", id}).out.find("\"paused\""), std::string::npos);
  auto frozen = ticks(data, 3);
  ::usleep(300000);
  EXPECT_EQ(ticks(data, 3), frozen) << "a task ran while paused";
  ASSERT_EQ(cli({"resume", id}).exit_code, 0);
  EXPECT_TRUE(wait_until([&] {
    auto now = ticks(data, 3);
    for (int i = 0; i < 3; ++i)
      if (now[i] <= frozen[i]) return false;
    return true;
  })) << "not every task continued after resume";
}

TEST(Lifecycle, KillThenDeleteLeavesNothing) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string id = unique_name("kill");
  cli.track(id);
  auto spec = write_spec(cli, id, {"/bin/sleep", "60"});
  ASSERT_EQ(cli({"run", "-d", spec}).exit_code, 0);
  ASSERT_EQ(cli({"kill", id, "KILL"}).exit_code, 0);
  ASSERT_TRUE(wait_until([&] {
    return cli({"state", id}).out.find("\"stopped\"") != std::string::npos;
  }));
  EXPECT_NE(cli({"state", id}).out.find("\"exit_code\": 137"), std::string::npos);
  ASSERT_EQ(cli({"delete", id}).exit_code, 0);
  EXPECT_NO_LEFTOVERS(cli, id);
}

TEST(Lifecycle, DeleteForceOfARunningContainerLeavesNothing) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string id = unique_name("delf");
  cli.track(id);
  auto spec = write_spec(cli, id, {"/bin/sh", "-c", "sleep 60 & sleep 60"});
  ASSERT_EQ(cli({"run", "-d", spec}).exit_code, 0);
  auto refused = cli({"delete", id});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("running"), std::string::npos) << refused.err;
  ASSERT_EQ(cli({"delete", "-f", id}).exit_code, 0);
  EXPECT_NO_LEFTOVERS(cli, id);
}

TEST(Lifecycle, DetachedWorkloadThatExitsRecordsItsStatus) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string id = unique_name("exitd");
  cli.track(id);
  auto spec = write_spec(cli, id, {"/bin/sh", "-c", "echo bye; exit 3"});
  ASSERT_EQ(cli({"run", "-d", spec}).exit_code, 0);
  ASSERT_TRUE(wait_until([&] {
    return cli({"state", id}).out.find("\"stopped\"") != std::string::npos;
  }));
  EXPECT_NE(cli({"state", id}).out.find("\"exit_code\": 3"), std::string::npos);
  EXPECT_EQ(cli({"logs", id}).out, "bye\n");
  ASSERT_EQ(cli({"delete", id}).exit_code, 0);
  EXPECT_NO_LEFTOVERS(cli, id);
}

TEST(Lifecycle, ExecJoinsTheContainer) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string id = unique_name("exec");
  cli.track(id);
  auto spec = write_spec(cli, id, {"/bin/sleep", "60"}, "hostname: exec-host\n");
  ASSERT_EQ(cli({"run", "-d", spec}).exit_code, 0);
  auto r = cli({"exec", id, "--", "/bin/sh", "-c",
                "cat /proc/sys/kernel/hostname; cat /proc/1/comm; exit 5"});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_EQ(r.out, "exec-host\nsleep\n");
  auto ps = cli({"ps", "--json", id});
  EXPECT_NE(ps.out.find("\"container_pid\":1"), std::string::npos) << ps.out;
}

// An fd the caller of `exec` holds (here 7, from the shell that runs it) must not reach the
// container: the exec'd process sees stdio only.
TEST(Lifecycle, ExecDoesNotPassTheCallersFdsIntoTheContainer) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string id = unique_name("execfd");
  cli.track(id);
  auto spec = write_spec(cli, id, {"/bin/sleep", "60"});
  ASSERT_EQ(cli({"run", "-d", spec}).exit_code, 0);
  std::string command = "exec 7</etc/hostname; exec '" + binary() + "' --root '" + cli.root() +
                        "' exec " + id + " -- /bin/ls /proc/self/fd";
  auto r = run_command({"/bin/sh", "-c", command});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // ls lists 0 1 2 and the fd of the directory it reads (3).
  EXPECT_EQ(r.out, "0\n1\n2\n3\n") << "the caller's fd 7 leaked into the container";
}

}  // namespace
}  // namespace ckpt::test
