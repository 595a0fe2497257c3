// Parsing and formatting of cgroup file contents.
#include <gtest/gtest.h>

#include <cmath>

#include "cgroup/values.h"
#include "common/error.h"

namespace ckpt::cgroup {
namespace {

TEST(CgroupValues, Events) {
  EXPECT_EQ(events_frozen("populated 1\nfrozen 0\n"), false);
  EXPECT_EQ(events_frozen("populated 0\nfrozen 1\n"), true);
  EXPECT_EQ(events_populated("populated 1\nfrozen 0\n"), true);
  EXPECT_EQ(events_frozen("populated 1\n"), std::nullopt);  // kernel < 5.2
  EXPECT_THROW(events_frozen("frozen yes\n"), Error);
}

TEST(CgroupValues, FlatKeyIgnoresOtherLines) {
  EXPECT_EQ(flat_key("a 1\nfrozen_x 7\nb 2\n", "b"), "2");
  EXPECT_EQ(flat_key("a 1\nfrozen_x 7\n", "frozen"), std::nullopt);
}

TEST(CgroupValues, V1FreezerState) {
  EXPECT_EQ(parse_freezer_state("THAWED\n"), V1FreezerState::thawed);
  EXPECT_EQ(parse_freezer_state("FREEZING\n"), V1FreezerState::freezing);
  EXPECT_EQ(parse_freezer_state("FROZEN\n"), V1FreezerState::frozen);
  EXPECT_THROW(parse_freezer_state("MELTED\n"), Error);
}

TEST(CgroupValues, ControllerLists) {
  EXPECT_TRUE(has_controller("cpuset cpu io memory pids\n", "cpu"));
  EXPECT_TRUE(has_controller("cpuset cpu io memory pids\n", "pids"));
  EXPECT_FALSE(has_controller("cpuset io memory\n", "cpu"));
  EXPECT_FALSE(has_controller("\n", "memory"));
}

TEST(CgroupValues, PidLists) {
  EXPECT_EQ(parse_pids("12\n345\n"), (std::vector<pid_t>{12, 345}));
  EXPECT_TRUE(parse_pids("").empty());
  EXPECT_THROW(parse_pids("12\nabc\n"), Error);
  EXPECT_THROW(parse_pids("-3\n"), Error);
}

TEST(CgroupValues, CpuQuota) {
  EXPECT_EQ(cpu_quota_us(1.5), 150000u);
  EXPECT_EQ(cpu_quota_us(0.5), 50000u);
  EXPECT_EQ(cpu_quota_us(4), 400000u);
  EXPECT_EQ(cpu_quota_us(0.01), 1000u);
  EXPECT_EQ(cpu_max_value(0.25), "25000 100000");
  EXPECT_EQ(cpu_max_value(2), "200000 100000");
}

TEST(CgroupValues, CpuQuotaRejectsBadValues) {
  EXPECT_THROW(cpu_quota_us(0), Error);
  EXPECT_THROW(cpu_quota_us(-1), Error);
  EXPECT_THROW(cpu_quota_us(std::nan("")), Error);
  try {
    cpu_quota_us(0.001);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("resources.cpus"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ckpt::cgroup
