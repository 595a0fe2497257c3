// Timers across checkpoint and restore, through the crun-ckpt binary. The workload
// (tests/workloads/timers.cc) arms an interval timer and POSIX timers, is checkpointed while
// they are armed, and after the restore reports from inside: which signals arrived, with which
// si_value and timer id, and when in its own CLOCK_MONOTONIC.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "container_fixture.h"
#include "harness.h"

namespace ckpt::test {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;

// The workload's constants (tests/workloads/timers.cc).
constexpr long kFirstMs = 8000;
constexpr long long kUsr1Value = 0x5eed1;
constexpr long long kTimerValue = 0x7133e55a11LL;
constexpr long long kPendingValue = 0xabcd0042LL;
// A schedule check, not a performance one: the restore may delay a timer by the time it takes
// (arming to resume), never make it early; only a broken conversion makes it this late.
constexpr long kLateMs = 15000;

std::map<std::string, long long> parse(const std::string& text) {
  std::map<std::string, long long> out;
  for (const auto& [key, value] : parse_key_values(text)) out[key] = std::stoll(value);
  return out;
}

// A container running the timers workload with its report directory at /mnt.
class TimersContainer {
 public:
  TimersContainer(Cli& cli, const std::string& prefix, const std::string& mode = "")
      : cli_(cli), id_(unique_name(prefix)), dir_("ckpt-timers") {
    cli_.track(id_);
    std::vector<std::string> args = {workload("timers"), "/mnt"};
    if (!mode.empty()) args.push_back(mode);
    spec_ = write_spec(cli_, id_, args, report_mount(dir_.path()));
  }
  // The container goes before its report directory.
  ~TimersContainer() { cli_({"delete", "-f", id_}); }
  const std::string& id() const { return id_; }
  const std::string& spec() const { return spec_; }

  // The workload's "ready" line (empty map if it never came).
  std::map<std::string, long long> ready() const {
    std::string text;
    wait_until([&] { return !(text = slurp(dir_.file("ready"))).empty(); }, seconds(30));
    return parse(text);
  }
  std::map<std::string, long long> report() const {
    dir_.write("go", "");
    std::string text;
    wait_until([&] { return !(text = slurp(dir_.file("report"))).empty(); }, seconds(90));
    return parse(text);
  }

 private:
  Cli& cli_;
  std::string id_;
  TempDir dir_;
  std::string spec_;
};

const nlohmann::json& only_process(const nlohmann::json& manifest) {
  const auto& processes = manifest.at("body").at("checkpoint").at("processes");
  EXPECT_EQ(processes.size(), 1u);
  return processes.at(0);
}

TEST(CheckpointRestore, TimersAndPendingSignalsSurviveOnSchedule) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  TimersContainer c(cli, "timers");
  auto run = cli({"run", "-d", c.spec()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto ready = c.ready();
  ASSERT_TRUE(ready.count("timer")) << "the workload did not get ready";
  std::string image = cli.scratch().file("image");
  auto ck = cli({"checkpoint", "--image-path", image, c.id()}, seconds(120));
  ASSERT_EQ(ck.exit_code, 0) << ck.err;

  // The dump must have caught the timers armed, or the restore proves nothing.
  auto inspect = cli({"image", "inspect", "--json", image});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  nlohmann::json manifest = nlohmann::json::parse(inspect.out);
  const auto& p = only_process(manifest);
  ASSERT_EQ(p.at("itimers").size(), 1u) << p.at("itimers").dump();
  ASSERT_GT(p.at("itimers")[0].at("value_ns").get<uint64_t>(), 0u);

  auto rs = cli({"restore", "-d", "--image-path", image}, seconds(120));
  ASSERT_EQ(rs.exit_code, 0) << rs.err;
  auto r = c.report();
  ASSERT_TRUE(r.count("rt")) << "no report after the restore";

  // The SIGUSR1 queued before the dump arrives once, with its value (SI_QUEUE).
  EXPECT_EQ(r["usr1"], 1);
  EXPECT_EQ(r["usr1_value"], kUsr1Value);
  EXPECT_EQ(r["usr1_code"], -1);
  // The timer signal pending at the dump arrives once as SI_TIMER from the same timer id.
  EXPECT_EQ(r["pending"], 1);
  EXPECT_EQ(r["pending_value"], kPendingValue);
  EXPECT_EQ(r["pending_code"], -2);
  EXPECT_EQ(r["pending_timerid"], ready["pending_timer"]);
  // Both POSIX timers exist under their original ids.
  EXPECT_EQ(r["timer"], ready["timer"]);
  EXPECT_EQ(r["timer_exists"], 1);
  EXPECT_EQ(r["pending_exists"], 1);
  // The interval timer fired once, not before it was due.
  EXPECT_EQ(r["alrm"], 1);
  EXPECT_GE(r["alrm_delay_ms"], kFirstMs);
  EXPECT_LE(r["alrm_delay_ms"], kFirstMs + kLateMs);
  // The periodic timer fired at least three times, each no earlier than its due time.
  EXPECT_GE(r["rt"], 3);
  EXPECT_EQ(r["rt_value"], kTimerValue);
  EXPECT_EQ(r["rt_code"], -2);
  EXPECT_EQ(r["rt_timerid"], ready["timer"]);
  EXPECT_GE(r["rt_delay_ms"], kFirstMs);
  EXPECT_LE(r["rt_delay_ms"], kFirstMs + kLateMs);
  EXPECT_EQ(r["rt_schedule_ok"], 1);
}

// A periodic ITIMER_REAL that fired while its SIGALRM was blocked waits, unarmed, for the
// signal to be taken (the kernel re-arms it at dequeue): the dump sees value 0 with an interval.
// After the restore the timer must keep firing once the workload takes the signal.
TEST(CheckpointRestore, PeriodicItimerWaitingForItsSignalKeepsFiring) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  TimersContainer c(cli, "stalled", "stalled");
  auto run = cli({"run", "-d", c.spec()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto ready = c.ready();
  ASSERT_TRUE(ready.count("stalled_value_us")) << "the workload did not get ready";
  EXPECT_EQ(ready["stalled_value_us"], 0) << "the timer should wait for its signal, unarmed";
  std::string image = cli.scratch().file("image");
  auto ck = cli({"checkpoint", "--image-path", image, c.id()}, seconds(120));
  ASSERT_EQ(ck.exit_code, 0) << ck.err;
  auto rs = cli({"restore", "-d", "--image-path", image}, seconds(120));
  ASSERT_EQ(rs.exit_code, 0) << rs.err;
  auto r = c.report();
  ASSERT_TRUE(r.count("alrm")) << "no report after the restore";
  // The pending SIGALRM, then the timer going on every 20 ms: five within the 10 s the workload
  // waits. A lost timer delivers the pending signal only.
  EXPECT_GE(r["alrm"], 5) << "the periodic interval timer stopped after the restore";
}

TEST(CheckpointRestore, ImageInspectShowsTimers) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  TimersContainer c(cli, "tinspect");
  ASSERT_EQ(cli({"run", "-d", c.spec()}).exit_code, 0);
  auto ready = c.ready();
  ASSERT_TRUE(ready.count("timer")) << "the workload did not get ready";
  std::string image = cli.scratch().file("image");
  auto ck = cli({"checkpoint", "--leave-running", "--image-path", image, c.id()}, seconds(120));
  ASSERT_EQ(ck.exit_code, 0) << ck.err;

  auto inspect = cli({"image", "inspect", "--json", image});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  nlohmann::json manifest = nlohmann::json::parse(inspect.out);
  const auto& p = only_process(manifest);
  const auto& itimers = p.at("itimers");
  ASSERT_EQ(itimers.size(), 1u) << itimers.dump();
  EXPECT_EQ(itimers[0].at("which").get<int>(), 0);  // ITIMER_REAL
  EXPECT_GT(itimers[0].at("value_ns").get<uint64_t>(), 0u);
  EXPECT_LE(itimers[0].at("value_ns").get<uint64_t>(), kFirstMs * 1'000'000ULL);
  EXPECT_EQ(itimers[0].at("interval_ns").get<uint64_t>(), 0u);

  const auto& timers = p.at("posix_timers");
  ASSERT_EQ(timers.size(), 2u) << timers.dump();
  std::map<long long, nlohmann::json> by_id;
  for (const auto& t : timers) by_id[t.at("id").get<long long>()] = t;
  ASSERT_TRUE(by_id.count(ready["timer"])) << timers.dump();
  ASSERT_TRUE(by_id.count(ready["pending_timer"])) << timers.dump();
  const auto& periodic = by_id[ready["timer"]];
  EXPECT_EQ(periodic.at("clock_id").get<int>(), 1);  // CLOCK_MONOTONIC
  EXPECT_EQ(periodic.at("notify").get<int>(), 0);    // SIGEV_SIGNAL
  EXPECT_EQ(periodic.at("sigev_value").get<long long>(), kTimerValue);
  EXPECT_GT(periodic.at("value_ns").get<uint64_t>(), 0u);
  EXPECT_EQ(periodic.at("interval_ns").get<uint64_t>(), 1'000'000'000u);
  const auto& fired = by_id[ready["pending_timer"]];
  EXPECT_EQ(fired.at("clock_id").get<int>(), 7);  // CLOCK_BOOTTIME
  EXPECT_EQ(fired.at("notify").get<int>(), 4);    // SIGEV_THREAD_ID
  EXPECT_EQ(fired.at("notify_tid").get<int>(), 1);
  EXPECT_EQ(fired.at("value_ns").get<uint64_t>(), 0u) << "a fired one-shot timer is disarmed";

  auto human = cli({"image", "inspect", image});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_THAT(human.out, HasSubstr("timer " + std::to_string(ready["timer"]) + " clock 1 signal"))
      << human.out;
}

TEST(CheckpointRestore, TimerOnAnotherProcessCpuClockIsRefused) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  TimersContainer c(cli, "tforeign", "foreign");
  ASSERT_EQ(cli({"run", "-d", c.spec()}).exit_code, 0);
  auto ready = c.ready();
  ASSERT_TRUE(ready.count("timer")) << "the workload did not get ready";
  std::string image = cli.scratch().file("image");
  auto ck = cli({"checkpoint", "--image-path", image, c.id()}, seconds(120));
  EXPECT_EQ(ck.exit_code, 1) << ck.out;
  EXPECT_EQ(std::count(ck.err.begin(), ck.err.end(), '\n'), 1) << ck.err;
  EXPECT_THAT(ck.err, HasSubstr("pid 1"));
  EXPECT_THAT(ck.err, HasSubstr("POSIX timer " + std::to_string(ready["timer"])));
  EXPECT_THAT(ck.err, HasSubstr("another process"));
  EXPECT_FALSE(std::filesystem::exists(image));
  EXPECT_THAT(cli({"state", c.id()}).out, HasSubstr("\"running\""));
}

}  // namespace
}  // namespace ckpt::test
