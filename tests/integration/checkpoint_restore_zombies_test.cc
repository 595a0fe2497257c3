// Zombies across checkpoint/restore through the crun-ckpt binary. The workload
// (tests/workloads/zombie_parent.cc) leaves children exited but unreaped, in the container's
// init and in a process below it; after a plain (killing) checkpoint and a restore, each parent's
// waitpid() must return the same child pids with the same statuses (exit codes and a SIGTERM
// death), and no SIGCHLD may be pending that was not pending at the dump.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "container_fixture.h"
#include "harness.h"

namespace ckpt::test {
namespace {

using std::chrono::seconds;

// "pid=P children=A,B,C"
struct Ready {
  long pid = -1;
  std::vector<long> children;
};

Ready parse_ready(const std::string& text) {
  Ready r;
  long pid = 0;
  char list[256] = {};
  if (std::sscanf(text.c_str(), "pid=%ld children=%255s", &pid, list) != 2) return r;
  r.pid = pid;
  std::istringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) r.children.push_back(std::stol(item));
  return r;
}

struct Report {
  long pid = -1;
  int sigchld_pending = -1;
  std::map<long, int> status;  // child pid -> wait status, as waitpid returned them
  std::vector<long> order;
};

Report parse_report(const std::string& text) {
  Report r;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    long pid = 0;
    int value = 0;
    if (std::sscanf(line.c_str(), "pid=%ld sigchld_pending=%d", &pid, &value) == 2) {
      r.pid = pid;
      r.sigchld_pending = value;
    } else if (std::sscanf(line.c_str(), "child=%ld status=%d", &pid, &value) == 2) {
      r.status[pid] = value;
      r.order.push_back(pid);
    }
  }
  return r;
}

// A container running zombie_parent with its report directory at /mnt.
class ZombieContainer {
 public:
  explicit ZombieContainer(Cli& cli) : cli_(cli), id_(unique_name("zombie")), dir_("ckpt-zmb") {
    cli_.track(id_);
    spec_ = write_spec(cli_, id_, {workload("zombie_parent"), "/mnt"}, report_mount(dir_.path()));
  }
  // The container goes before its report directory, which it writes into while it runs.
  ~ZombieContainer() { cli_({"delete", "-f", id_}); }
  const std::string& id() const { return id_; }
  const std::string& spec() const { return spec_; }
  const TempDir& dir() const { return dir_; }

  // The ready line of process `name` ("init" or "sub"), once written.
  Ready ready(const std::string& name) const {
    Ready r;
    wait_until([&] { return (r = parse_ready(slurp(dir_.file("ready-" + name)))).pid > 0; },
               seconds(60));
    return r;
  }
  Report report(const std::string& name) const {
    return parse_report(wait_for_report(dir_.file("report-" + name), seconds(60)));
  }

 private:
  Cli& cli_;
  std::string id_;
  TempDir dir_;
  std::string spec_;
};

TEST(CheckpointRestore, ZombiesKeepPidsAndWaitStatuses) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  ZombieContainer c(cli);
  ASSERT_EQ(cli({"run", "-d", c.spec()}).exit_code, 0);
  Ready init = c.ready("init");
  Ready sub = c.ready("sub");
  ASSERT_EQ(init.pid, 1);
  ASSERT_EQ(init.children.size(), 3u);
  ASSERT_GT(sub.pid, 1);
  ASSERT_EQ(sub.children.size(), 1u);

  std::string image = cli.scratch().file("image");
  auto ck = cli({"checkpoint", "--image-path", image, c.id()}, seconds(120));
  ASSERT_EQ(ck.exit_code, 0) << ck.err;
  // Shown on failure: the processes the image holds.
  auto inspect = cli({"image", "inspect", image});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  auto rs = cli({"restore", "-d", "--image-path", image}, seconds(120));
  ASSERT_EQ(rs.exit_code, 0) << rs.err;
  c.dir().write("go", "");

  Report init_after = c.report("init");
  Report sub_after = c.report("sub");
  EXPECT_EQ(init_after.pid, 1);
  EXPECT_EQ(sub_after.pid, sub.pid);
  EXPECT_EQ(init_after.sigchld_pending, 0) << "a SIGCHLD appeared that was not pending";
  EXPECT_EQ(sub_after.sigchld_pending, 0) << "a SIGCHLD appeared that was not pending";

  // waitpid(pid) must return that very pid (not -1/ECHILD) with the dumped status.
  ASSERT_EQ(init_after.order, init.children) << inspect.out;
  int s7 = init_after.status[init.children[0]];
  EXPECT_TRUE(WIFEXITED(s7) && WEXITSTATUS(s7) == 7) << s7;
  int s42 = init_after.status[init.children[1]];
  EXPECT_TRUE(WIFEXITED(s42) && WEXITSTATUS(s42) == 42) << s42;
  int sterm = init_after.status[init.children[2]];
  EXPECT_TRUE(WIFSIGNALED(sterm) && WTERMSIG(sterm) == SIGTERM) << sterm;
  ASSERT_EQ(sub_after.order, sub.children) << inspect.out;
  int s5 = sub_after.status[sub.children[0]];
  EXPECT_TRUE(WIFEXITED(s5) && WEXITSTATUS(s5) == 5) << s5;
}

}  // namespace
}  // namespace ckpt::test
