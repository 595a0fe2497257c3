// SIGKILL of `run` and `restore` (foreground and -d, and of the monitor a -d forks) at delays
// spread over the whole start. Whatever instant the kill hits, the container is either not
// there at all, or `list` and `state` show it (creating, broken or running), `delete -f`
// removes every trace of it (cgroups, veths, the bridge, the state directory), and the name
// can be used again at once.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "container_fixture.h"
#include "harness.h"
#include "kill_recovery.h"

namespace ckpt::test {
namespace {

using std::chrono::seconds;

// A restore_counter tree (4 processes) with one interface on a subnet of its own, so a kill
// can leave a veth and a bridge behind.
struct NetTree {
  explicit NetTree(Cli& cli) : id(unique_name("klc")), prefix(unique_subnet_prefix()) {
    cli.track(id);
    spec = write_spec(cli, id, {workload("restore_counter"), "tree"},
                      "network:\n  interfaces:\n    - {name: eth0, address: " + prefix +
                          ".2/24, gateway: " + prefix + ".1}\n");
  }
  std::string id, prefix, spec;
};

// What a kill may leave, checked without any repairing command, then removed by `delete -f`.
void expect_removable(Cli& cli, const NetTree& c) {
  std::string status = status_of(cli, c.id);
  if (!status.empty()) {
    EXPECT_TRUE(status == "creating" || status == "broken" || status == "running") << status;
    auto list = cli({"list", "--json"});
    bool listed = false;
    for (const auto& entry : nlohmann::json::parse(list.out))
      listed = listed || entry.value("id", "") == c.id;
    EXPECT_TRUE(listed) << list.out;
    auto del = cli({"delete", "-f", c.id});
    EXPECT_EQ(del.exit_code, 0) << del.err;
  }
  EXPECT_NO_LEFTOVERS(cli, c.id, c.prefix);
}

// The name works again: a fresh start (`args`) succeeds and is removed cleanly.
void expect_reusable(Cli& cli, const NetTree& c, const std::vector<std::string>& args) {
  auto again = cli(args, seconds(60));
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(status_of(cli, c.id), "running");
  EXPECT_EQ(cli({"delete", "-f", c.id}).exit_code, 0);
  EXPECT_NO_LEFTOVERS(cli, c.id, c.prefix);
}

std::string name_of(std::chrono::microseconds delay) {
  return "killed after " + std::to_string(delay.count() / 1000) + " ms";
}

TEST(KillRecovery, RunKilledAtAnyPointLeavesNothingAfterDeleteForce) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  NetTree c(cli);
  auto start = time_command(cli, {"run", "-d", c.spec});
  ASSERT_EQ(cli({"delete", "-f", c.id}).exit_code, 0);
  std::map<std::string, int> seen;
  for (bool detach : {false, true}) {
    for (auto delay : spread(start * 13 / 10, 10)) {
      SCOPED_TRACE(std::string(detach ? "run -d, " : "run, ") + name_of(delay));
      std::vector<std::string> args = {"run", c.spec};
      if (detach) args.insert(args.begin() + 1, "-d");
      // With -d the monitor that carries on the start is killed too.
      run_killed_after(cli, args, delay, [&] { return recorded_creator(cli, c.id); });
      ++seen[status_of(cli, c.id)];
      expect_removable(cli, c);
      expect_reusable(cli, c, {"run", "-d", c.spec});
    }
  }
  for (const auto& [status, n] : seen)
    std::printf("[   INFO   ] left '%s' %d times\n", status.c_str(), n);
}

TEST(KillRecovery, RestoreKilledAtAnyPointLeavesNothingAfterDeleteForce) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  NetTree c(cli);
  ASSERT_EQ(cli({"run", "-d", c.spec}).exit_code, 0);
  ASSERT_TRUE(
      wait_until([&] { return slurp(cli.root() + "/" + c.id + "/container.log").size() > 4000; }));
  std::string image = cli.scratch().file("image");
  auto ck = cli({"checkpoint", "--image-path", image, c.id}, seconds(120));
  ASSERT_EQ(ck.exit_code, 0) << ck.err;
  auto restore = time_command(cli, {"restore", "-d", "--image-path", image});
  ASSERT_EQ(cli({"delete", "-f", c.id}).exit_code, 0);
  std::map<std::string, int> seen;
  for (bool detach : {false, true}) {
    for (auto delay : spread(restore * 13 / 10, 10)) {
      SCOPED_TRACE(std::string(detach ? "restore -d, " : "restore, ") + name_of(delay));
      std::vector<std::string> args = {"restore", "--image-path", image};
      if (detach) args.insert(args.begin() + 1, "-d");
      run_killed_after(cli, args, delay, [&] { return recorded_creator(cli, c.id); });
      ++seen[status_of(cli, c.id)];
      expect_removable(cli, c);
      expect_reusable(cli, c, {"restore", "-d", "--image-path", image});
    }
  }
  for (const auto& [status, n] : seen)
    std::printf("[   INFO   ] left '%s' %d times\n", status.c_str(), n);
}

}  // namespace
}  // namespace ckpt::test
