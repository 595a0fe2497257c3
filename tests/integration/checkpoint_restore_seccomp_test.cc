// Checkpoint and restore of a container whose threads run under seccomp filters, through the
// crun-ckpt binary. The workload (tests/workloads/seccomp_filtered.cc) installs two filters in
// its main thread and a third in a worker, then checks from inside, in each thread, that the
// filtered syscalls fail with their distinctive errnos and what /proc/thread-self/status says.
// After the restore every thread must see the same errnos, seccomp mode and filter count, the
// same pid, tids and token, and counters that went on. The image must show the filter chain of
// each thread.
#include <errno.h>
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

struct ThreadLine {
  long tid = -1, rounds = -1;
  int getppid = -1, uname = -1, magic = -1, seccomp = -1, filters = -1;
  int after_tsync = 0;  // the values were read after the workload's TSYNC install finished
};

struct Report {
  std::map<int, ThreadLine> threads;
  long pid = -1;
  std::string token;
  long tsync = -1;  // the workload's TSYNC result; -1000 until asked (SIGUSR2)
};

Report parse(const std::string& text) {
  Report r;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    int i = -1;
    ThreadLine t;
    char token[32] = {};
    if (std::sscanf(line.c_str(),
                    "thread=%d tid=%ld rounds=%ld getppid=%d uname=%d magic=%d seccomp=%d "
                    "filters=%d after_tsync=%d",
                    &i, &t.tid, &t.rounds, &t.getppid, &t.uname, &t.magic, &t.seccomp, &t.filters,
                    &t.after_tsync) >= 8) {
      r.threads[i] = t;
    } else if (std::sscanf(line.c_str(), "pid=%ld token=%31s", &r.pid, token) == 2) {
      r.token = token;
    } else {
      std::sscanf(line.c_str(), "tsync=%ld", &r.tsync);
    }
  }
  return r;
}

// What the workload's filters make each thread see (seccomp_filtered.cc).
void expect_filtered(const Report& r, const std::string& when) {
  SCOPED_TRACE(when);
  ASSERT_EQ(r.threads.size(), 2u);
  for (const auto& [i, t] : r.threads) {
    SCOPED_TRACE("thread " + std::to_string(i));
    EXPECT_EQ(t.getppid, EBADFD);
    EXPECT_EQ(t.uname, ENOKEY);
    EXPECT_EQ(t.seccomp, 2);
  }
  EXPECT_EQ(r.threads.at(0).magic, ESRCH) << "the worker's own filter leaked into the main thread";
  EXPECT_EQ(r.threads.at(1).magic, ENODATA);
  EXPECT_EQ(r.threads.at(0).filters, 2);
  EXPECT_EQ(r.threads.at(1).filters, 3);
}

// A container running the workload with its report directory bind-mounted at /mnt.
class SeccompContainer {
 public:
  // `mode` "notify" adds a user-notifier filter (see the workload).
  explicit SeccompContainer(Cli& cli, const std::string& mode = "")
      : cli_(cli), id_(unique_name("seccomp")), dir_("ckpt-sec") {
    cli_.track(id_);
    std::vector<std::string> args = {workload("seccomp_filtered"), "/mnt"};
    if (!mode.empty()) args.push_back(mode);
    spec_ = write_spec(cli_, id_, args, report_mount(dir_.path()));
  }
  const std::string& id() const { return id_; }
  const std::string& spec() const { return spec_; }

  void signal(const std::string& name) { EXPECT_EQ(cli_({"kill", id_, name}).exit_code, 0); }

  // Sends SIGUSR1 to the container's init and waits a while for its complete report; empty
  // when none came (a signal sent before the workload installed its handler is lost).
  Report report() {
    std::filesystem::remove(dir_.file("report"));
    EXPECT_EQ(cli_({"kill", id_, "USR1"}).exit_code, 0);
    std::string text = wait_for_report(dir_.file("report"), seconds(5));
    return text.empty() ? Report{} : parse(text);
  }

  // Reports until every thread has done more rounds than in `previous` (at least 3), or a
  // minute passed; the caller checks what it got.
  Report report_after(const Report& previous) {
    Report r;
    wait_until(
        [&] {
          r = report();
          if (r.threads.size() != 2) return false;
          for (const auto& [i, t] : r.threads) {
            auto it = previous.threads.find(i);
            if (t.rounds <= (it == previous.threads.end() ? 2 : it->second.rounds)) return false;
          }
          return true;
        },
        seconds(60));
    return r;
  }

  // The container goes before its report directory, which it writes into while it runs.
  ~SeccompContainer() { cli_({"delete", "-f", id_}); }

 private:
  Cli& cli_;
  std::string id_;
  TempDir dir_;
  std::string spec_;
};

TEST(CheckpointRestore, SeccompFiltersSurvivePerThread) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  SeccompContainer c(cli);
  auto run = cli({"run", "-d", c.spec()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  Report before = c.report_after(Report{});
  ASSERT_NO_FATAL_FAILURE(expect_filtered(before, "before the checkpoint"));

  std::string image = cli.scratch().file("image");
  // --leave-running, then delete, as the threads test: what is under test is the restore.
  auto ck = cli({"checkpoint", "--leave-running", "--image-path", image, c.id()}, seconds(120));
  ASSERT_EQ(ck.exit_code, 0) << ck.err;
  ASSERT_EQ(cli({"delete", "-f", c.id()}).exit_code, 0);

  // The image shows each thread's chain, oldest first, with the flags it was installed with.
  auto inspect = cli({"image", "inspect", "--json", image});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  nlohmann::json manifest = nlohmann::json::parse(inspect.out);
  const auto& processes = manifest.at("body").at("checkpoint").at("processes");
  ASSERT_EQ(processes.size(), 1u);
  const auto& threads = processes[0].at("threads");
  ASSERT_EQ(threads.size(), 2u);
  std::vector<size_t> counts;
  for (const auto& t : threads) {
    EXPECT_EQ(t.at("seccomp").at("mode").get<int>(), 2);
    counts.push_back(t.at("seccomp").at("filters").size());
  }
  EXPECT_EQ(counts, (std::vector<size_t>{2, 3}));
  const auto& leader_filters = threads[0].at("seccomp").at("filters");
  EXPECT_EQ(leader_filters[0].at("flags").get<uint64_t>(), 0u);
  EXPECT_EQ(leader_filters[1].at("flags").get<uint64_t>(), 2u) << "SECCOMP_FILTER_FLAG_LOG lost";
  // The worker inherited the main thread's two filters: same programs, then its own.
  const auto& worker_filters = threads[1].at("seccomp").at("filters");
  EXPECT_EQ(worker_filters[0].at("program"), leader_filters[0].at("program"));
  EXPECT_EQ(worker_filters[1].at("program"), leader_filters[1].at("program"));
  EXPECT_NE(worker_filters[2].at("program"), leader_filters[1].at("program"));

  auto rs = cli({"restore", "-d", "--image-path", image}, seconds(120));
  ASSERT_EQ(rs.exit_code, 0) << rs.err;
  Report after = c.report_after(before);
  ASSERT_NO_FATAL_FAILURE(expect_filtered(after, "after the restore"));
  EXPECT_EQ(after.pid, before.pid);
  EXPECT_EQ(after.token, before.token) << "the process was restarted, not restored";
  for (const auto& [i, t] : after.threads) {
    SCOPED_TRACE("thread " + std::to_string(i));
    EXPECT_EQ(t.tid, before.threads.at(i).tid);
    EXPECT_GT(t.rounds, before.threads.at(i).rounds);
  }

  // The restored chains, dumped again, are the original ones (programs and flags).
  std::string again = cli.scratch().file("image-again");
  auto ck2 = cli({"checkpoint", "--leave-running", "--image-path", again, c.id()}, seconds(120));
  ASSERT_EQ(ck2.exit_code, 0) << ck2.err;
  auto inspect2 = cli({"image", "inspect", "--json", again});
  ASSERT_EQ(inspect2.exit_code, 0) << inspect2.err;
  const auto threads2 = nlohmann::json::parse(inspect2.out)
                            .at("body")
                            .at("checkpoint")
                            .at("processes")[0]
                            .at("threads");
  ASSERT_EQ(threads2.size(), 2u);
  for (size_t i = 0; i < 2; ++i) EXPECT_EQ(threads2[i].at("seccomp"), threads[i].at("seccomp"));

  // The two filters the threads share are one chain, as before the checkpoint, not copies:
  // a TSYNC install from the worker works only then (seccomp(2)).
  c.signal("USR2");
  Report synced;
  wait_until(
      [&] {
        synced = c.report();
        // Both threads must have looked at their filters since the install: a report written
        // in between shows the main thread's count from before it.
        return synced.tsync != -1000 && synced.threads.size() == 2 &&
               synced.threads.at(0).after_tsync == 1 && synced.threads.at(1).after_tsync == 1;
      },
      seconds(60));
  EXPECT_EQ(synced.tsync, 0) << "TSYNC blocked by thread " << synced.tsync
                             << ": the restored threads do not share their common filters";
  ASSERT_EQ(synced.threads.size(), 2u);
  EXPECT_EQ(synced.threads.at(0).filters, 4);
  EXPECT_EQ(synced.threads.at(1).filters, 4);
}

// A filter that hands syscalls to a user-space supervisor cannot be restored: the checkpoint
// refuses with one line naming the thread, and the container goes on untouched.
TEST(CheckpointRestore, SeccompUserNotifierIsRefused) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  SeccompContainer c(cli, "notify");
  auto run = cli({"run", "-d", c.spec()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  Report before = c.report_after(Report{});
  ASSERT_EQ(before.threads.size(), 2u);
  EXPECT_EQ(before.threads.at(0).filters, 3);

  std::string image = cli.scratch().file("image");
  auto ck = cli({"checkpoint", "--leave-running", "--image-path", image, c.id()}, seconds(120));
  EXPECT_NE(ck.exit_code, 0);
  EXPECT_NE(ck.err.find("SECCOMP_RET_USER_NOTIF"), std::string::npos) << ck.err;
  EXPECT_NE(ck.err.find("thread "), std::string::npos) << ck.err;
  EXPECT_EQ(std::count(ck.err.begin(), ck.err.end(), '\n'), 1) << ck.err;
  EXPECT_FALSE(std::filesystem::exists(image + "/manifest.json")) << "a partial image was left";

  Report after = c.report_after(before);
  for (const auto& [i, t] : after.threads) {
    SCOPED_TRACE("thread " + std::to_string(i));
    EXPECT_GT(t.rounds, before.threads.at(i).rounds) << "the container did not go on";
  }
}

}  // namespace
}  // namespace ckpt::test
