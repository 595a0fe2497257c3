// rlimits are read from /proc/PID/limits (prlimit(2) on a task with other uids needs
// CAP_SYS_RESOURCE), and the other /proc numbers of proc_state through the checked parser.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include "common/error.h"
#include "runtime/checkpoint/proc_state.h"

namespace ckpt::checkpoint {
namespace {

using ::testing::HasSubstr;

// As fs/proc/base.c proc_pid_limits prints it (padding and trailing blanks included).
constexpr const char* kLimits =
    "Limit                     Soft Limit           Hard Limit           Units     \n"
    "Max cpu time              unlimited            unlimited            seconds   \n"
    "Max file size             unlimited            unlimited            bytes     \n"
    "Max data size             unlimited            unlimited            bytes     \n"
    "Max stack size            8388608              unlimited            bytes     \n"
    "Max core file size        0                    unlimited            bytes     \n"
    "Max resident set          unlimited            unlimited            bytes     \n"
    "Max processes             96364                96364                processes \n"
    "Max open files            1024                 20000                files     \n"
    "Max locked memory         8388608              8388608              bytes     \n"
    "Max address space         unlimited            unlimited            bytes     \n"
    "Max file locks            unlimited            unlimited            locks     \n"
    "Max pending signals       96364                96364                signals   \n"
    "Max msgqueue size         819200               819200               bytes     \n"
    "Max nice priority         0                    0                    \n"
    "Max realtime priority     0                    0                    \n"
    "Max realtime timeout      200000               unlimited            us        \n";

template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ckpt::Error thrown";
  return {};
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST(CheckpointLimits, ReadsEveryLimitInResourceOrder) {
  std::vector<model::Rlimit> lim = parse_limits(kLimits);
  ASSERT_EQ(lim.size(), static_cast<size_t>(RLIM_NLIMITS));
  for (int r = 0; r < RLIM_NLIMITS; ++r) EXPECT_EQ(lim[r].resource, r);
  EXPECT_EQ(lim[RLIMIT_CPU].soft, RLIM_INFINITY);
  EXPECT_EQ(lim[RLIMIT_STACK].soft, 8388608u);
  EXPECT_EQ(lim[RLIMIT_STACK].hard, RLIM_INFINITY);
  EXPECT_EQ(lim[RLIMIT_CORE].soft, 0u);
  EXPECT_EQ(lim[RLIMIT_NOFILE].soft, 1024u);
  EXPECT_EQ(lim[RLIMIT_NOFILE].hard, 20000u);
  EXPECT_EQ(lim[RLIMIT_NPROC].hard, 96364u);
  EXPECT_EQ(lim[RLIMIT_NICE].soft, 0u);  // no Units column on this row
  EXPECT_EQ(lim[RLIMIT_RTPRIO].hard, 0u);
  // Values are in the limit's own unit (microseconds here): nothing is converted.
  EXPECT_EQ(lim[RLIMIT_RTTIME].soft, 200000u);
  EXPECT_EQ(lim[RLIMIT_RTTIME].hard, RLIM_INFINITY);
}

TEST(CheckpointLimits, ReadsThisProcessLikeGetrlimit) {
  std::string text;
  {
    FILE* f = std::fopen("/proc/self/limits", "r");
    ASSERT_NE(f, nullptr);
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    std::fclose(f);
  }
  std::vector<model::Rlimit> lim = parse_limits(text);
  ASSERT_EQ(lim.size(), static_cast<size_t>(RLIM_NLIMITS));
  for (int r = 0; r < RLIM_NLIMITS; ++r) {
    struct rlimit mine {};
    ASSERT_EQ(getrlimit(static_cast<__rlimit_resource>(r), &mine), 0);
    EXPECT_EQ(lim[r].soft, mine.rlim_cur) << "resource " << r;
    EXPECT_EQ(lim[r].hard, mine.rlim_max) << "resource " << r;
  }
}

TEST(CheckpointLimits, MissingRepeatedOrMalformedRowsAreRefusedNamingTheRow) {
  EXPECT_THAT(
      error_of([] { parse_limits(replace(kLimits, "Max open files ", "Max open filez ")); }),
      HasSubstr("no \"Max open files\" line"));
  std::string twice = std::string(kLimits) +
                      "Max open files            1024                 20000                files\n";
  EXPECT_THAT(error_of([&] { parse_limits(twice); }),
              HasSubstr("\"Max open files\" appears twice"));
  EXPECT_THAT(error_of([] {
                parse_limits(replace(kLimits, "8388608              unlimited",
                                     "8388608x             unlimited"));
              }),
              HasSubstr("limits: Max stack size soft '8388608x' is not a non-negative decimal"));
  EXPECT_THAT(error_of([] {
                parse_limits(replace(kLimits, "1024                 20000",
                                     "1024                 99999999999999999999"));
              }),
              HasSubstr("Max open files hard '99999999999999999999' is out of range"));
  // A changed unit means the table changed: refuse rather than misread.
  EXPECT_THAT(error_of([] { parse_limits(replace(kLimits, "seconds", "ms")); }),
              HasSubstr("\"Max cpu time  SOFT  HARD  seconds\""));
  EXPECT_THAT(error_of([] { parse_limits("Max cpu time  unlimited  unlimited  seconds\n"); }),
              HasSubstr("no header line"));
  std::string message =
      error_of([] { parse_limits(replace(kLimits, "96364                96364", "96364")); });
  EXPECT_THAT(message, HasSubstr("Max processes"));
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST(CheckpointLimits, LimitsUnknownToThisBuildAreSkipped) {
  std::string newer =
      std::string(kLimits) +
      "Max future thing          5                    5                    things\n";
  EXPECT_EQ(parse_limits(newer).size(), static_cast<size_t>(RLIM_NLIMITS));
}

TEST(CheckpointProcNumbers, BadNumbersInStatusAndStatNameTheField) {
  EXPECT_THAT(error_of([] { parse_status_fields("Uid:\t1000\t1000\t99999999999\t1000\n"); }),
              HasSubstr("status: Uid '99999999999' is out of range"));
  EXPECT_THAT(error_of([] { parse_status_fields("CapEff:\t00000000zz\n"); }),
              HasSubstr("status: CapEff '00000000zz' is not a non-negative hexadecimal integer"));
  EXPECT_THAT(error_of([] { parse_status_fields("Umask:\t0999\n"); }),
              HasSubstr("status: Umask '0999' is not a non-negative octal integer"));
  EXPECT_THAT(error_of([] { parse_status_fields("Groups:\t4 27x\n"); }),
              HasSubstr("status: Groups '27x'"));
  std::string stat = "7 (a b) S 1 7 7 0 -1 4194560";
  for (int i = 10; i <= 52; ++i) stat += i == 27 ? " 12q" : " 0";
  EXPECT_THAT(error_of([&] { parse_stat(stat); }), HasSubstr("stat field 27 '12q'"));
  EXPECT_THAT(error_of([] { parse_personality("zz\n"); }), HasSubstr("personality 'zz'"));
}

}  // namespace
}  // namespace ckpt::checkpoint
