// Credentials and limits at the container boundary: rlimits, callers without root, user
// namespaces.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <sstream>

#include "container_fixture.h"
#include "harness.h"

namespace ckpt::test {
namespace {

TEST(LifecycleLimits, RlimitIsAppliedInside) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string id = unique_name("rlim");
  cli.track(id);
  auto spec = write_spec(cli, id, {"/bin/sh", "-c", "ulimit -n; ulimit -Hn"},
                         "rlimits: {nofile: {soft: 64, hard: 128}}\n");
  auto r = cli({"run", spec});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "64\n128\n");
}

TEST(LifecycleLimits, RlimitAboveTheCallersHardLimitIsRefusedClearly) {
  CKPT_REQUIRE_ROOT();
  struct rlimit mine;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &mine), 0);
  if (mine.rlim_max == RLIM_INFINITY) GTEST_SKIP() << "no hard nofile limit here";
  Cli cli;
  std::string id = unique_name("rlimhi");
  cli.track(id);
  std::string too_high = std::to_string(mine.rlim_max + 1);
  auto spec = write_spec(cli, id, {"/bin/true"}, "rlimits: {nofile: " + too_high + "}\n");
  auto r = cli({"run", spec});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("rlimits.nofile"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(std::to_string(mine.rlim_max)), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NO_LEFTOVERS(cli, id);
}

TEST(LifecycleLimits, NonRootCallerWithoutUserNamespaceIsRefused) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string id = unique_name("nonroot");
  auto spec = write_spec(cli, id, {"/bin/true"});
  ::chmod(cli.scratch().path().c_str(), 0755);
  ::chmod(spec.c_str(), 0644);
  auto r = run_command({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        binary(), "--root", cli.root(), "run", spec});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("root"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("user"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NO_LEFTOVERS(cli, id);
}

TEST(LifecycleLimits, UserNamespaceMapsRootToAnUnprivilegedRange) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string id = unique_name("userns");
  cli.track(id);
  auto spec = write_spec(cli, id, {"/bin/sh", "-c", "id -u; cat /proc/self/uid_map"},
                         "namespaces: [pid, mount, net, uts, ipc, user]\n"
                         "uid_mappings: [{container_id: 0, host_id: 200000, size: 65536}]\n"
                         "gid_mappings: [{container_id: 0, host_id: 200000, size: 65536}]\n");
  auto r = cli({"run", spec});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream out(r.out);
  std::string uid, inside, outside, size;
  out >> uid >> inside >> outside >> size;
  EXPECT_EQ(uid, "0");
  EXPECT_EQ(inside, "0");
  EXPECT_EQ(outside, "200000");
  EXPECT_EQ(size, "65536");
}

}  // namespace
}  // namespace ckpt::test
