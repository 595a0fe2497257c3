// Namespace state across checkpoint and restore, through the crun-ckpt binary, observed from
// inside the workload (tests/workloads/nsstate.cc): the hostname and domainname the container
// set at run time are the ones it reads after a restore (twice over), and every kind of
// namespace state the image cannot hold yet (a SysV or POSIX IPC object, a mount added,
// remounted or removed at run time, a task that unshared a namespace) makes the checkpoint
// refuse with one line naming it, while the container keeps running and no image is left.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "container_fixture.h"
#include "harness.h"

namespace ckpt::test {
namespace {

using std::chrono::seconds;

long counter_in(const std::string& dir, const std::string& pid) {
  std::string text = slurp(dir + "/status-" + pid);
  return text.rfind("counter=", 0) == 0 ? std::stol(text.substr(8)) : -1;
}

// A container running nsstate with its report directory at /mnt and a spec tmpfs at /tmp.
class NsStateContainer {
 public:
  NsStateContainer(Cli& cli, const std::string& prefix, const std::vector<std::string>& actions)
      : cli_(cli), id_(unique_name(prefix)) {
    cli_.track(id_);
    std::vector<std::string> args = {workload("nsstate"), "/mnt"};
    args.insert(args.end(), actions.begin(), actions.end());
    spec_ = write_spec(cli_, id_, args,
                       "hostname: spec-host\n" + report_mount(dir_.path()) +
                           "  - {type: tmpfs, destination: /tmp}\n");
  }
  // The container goes before its report directory, which it keeps writing into.
  ~NsStateContainer() { cli_({"delete", "-f", id_}); }
  const std::string& id() const { return id_; }
  const std::string& spec() const { return spec_; }
  const std::string& dir() const { return dir_.path(); }

  // Runs detached and waits until `processes` processes count (their actions are done).
  ::testing::AssertionResult start(size_t processes = 1) {
    auto r = cli_({"run", "-d", spec_});
    if (r.exit_code != 0) return ::testing::AssertionFailure() << "run: " << r.err;
    return wait_counting(processes);
  }
  ::testing::AssertionResult wait_counting(size_t processes) const {
    bool ok = wait_until(
        [&] {
          if (!slurp(dir() + "/error").empty()) return true;
          auto pids = status_pids(dir());
          if (pids.size() != processes) return false;
          for (const auto& pid : pids)
            if (counter_in(dir(), pid) < 3) return false;
          return true;
        },
        seconds(30));
    std::string error = slurp(dir() + "/error");
    if (!error.empty()) return ::testing::AssertionFailure() << "the workload failed: " << error;
    if (!ok) return ::testing::AssertionFailure() << "the workload did not start counting";
    return ::testing::AssertionSuccess();
  }
  // True when init's counter moves (never a timing assertion: the bound is generous).
  bool counter_advances() const {
    long before = counter_in(dir(), "1");
    return wait_until([&] { return counter_in(dir(), "1") > before; }, seconds(10));
  }
  std::map<std::string, std::string> report() {
    auto reports = request_reports(cli_, id_, dir(), status_pids(dir()).size());
    return parse_key_values(reports["1"]);
  }

 private:
  Cli& cli_;
  std::string id_;
  TempDir dir_{"ckpt-nsstate"};
  std::string spec_;
};

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// Nothing named after the image beside it: neither the image nor a hidden partial one.
std::vector<std::string> image_leftovers(const std::string& image) {
  std::vector<std::string> found;
  std::string name = std::filesystem::path(image).filename();
  for (const auto& e :
       std::filesystem::directory_iterator(std::filesystem::path(image).parent_path()))
    if (e.path().filename().string().find(name) != std::string::npos) found.push_back(e.path());
  return found;
}

TEST(NamespaceState, HostnameAndDomainnameSetAtRunTimeSurviveTwoCycles) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  NsStateContainer c(cli, "uts",
                     {"--hostname", "changed-at-runtime", "--domainname", "first.example"});
  ASSERT_TRUE(c.start());
  auto before = c.report();
  ASSERT_EQ(before["hostname"], "changed-at-runtime");
  ASSERT_EQ(before["domainname"], "first.example");

  std::string image1 = cli.scratch().file("image1");
  auto ck = cli({"checkpoint", "--image-path", image1, c.id()}, seconds(120));
  ASSERT_EQ(ck.exit_code, 0) << ck.err;
  auto inspect = cli({"image", "inspect", image1});
  EXPECT_NE(inspect.out.find("hostname changed-at-runtime, domainname first.example"),
            std::string::npos)
      << inspect.out;
  auto rs = cli({"restore", "-d", "--image-path", image1}, seconds(120));
  ASSERT_EQ(rs.exit_code, 0) << rs.err;
  auto after = c.report();
  EXPECT_EQ(after["hostname"], "changed-at-runtime") << "the spec's hostname came back";
  EXPECT_EQ(after["domainname"], "first.example");
  EXPECT_GE(std::stol(after["counter"]), std::stol(before["counter"]))
      << "the workload restarted instead of continuing";

  // Changed again, in the restored container, by another process (as a user would).
  ASSERT_EQ(cli({"exec", c.id(), "--", "/usr/bin/hostname", "second-name"}).exit_code, 0);
  ASSERT_EQ(cli({"exec", c.id(), "--", "/bin/domainname", "second.example"}).exit_code, 0);
  auto state = cli({"state", c.id()});
  EXPECT_NE(state.out.find("\"hostname\": \"second-name\""), std::string::npos) << state.out;
  EXPECT_NE(state.out.find("\"domainname\": \"second.example\""), std::string::npos) << state.out;
  std::string image2 = cli.scratch().file("image2");
  ck = cli({"checkpoint", "--image-path", image2, c.id()}, seconds(120));
  ASSERT_EQ(ck.exit_code, 0) << ck.err;
  rs = cli({"restore", "-d", "--image-path", image2}, seconds(120));
  ASSERT_EQ(rs.exit_code, 0) << rs.err;
  after = c.report();
  EXPECT_EQ(after["hostname"], "second-name");
  EXPECT_EQ(after["domainname"], "second.example");
}

struct Refusal {
  const char* name;
  std::vector<std::string> actions;
  size_t processes;
  std::vector<std::string> expected;  // all in the one line
};

void PrintTo(const Refusal& r, std::ostream* os) {
  *os << r.name;
}

class CheckpointRefusesNamespaceState : public ::testing::TestWithParam<Refusal> {};

TEST_P(CheckpointRefusesNamespaceState, NamingItAndLeavingTheContainerRunning) {
  CKPT_REQUIRE_ROOT();
  const Refusal& r = GetParam();
  Cli cli;
  NsStateContainer c(cli, "nsref", r.actions);
  ASSERT_TRUE(c.start(r.processes));

  std::string image = cli.scratch().file("image");
  auto ck = cli({"checkpoint", "--image-path", image, c.id()}, seconds(120));
  EXPECT_EQ(ck.exit_code, 1) << ck.out << ck.err;
  EXPECT_NE(ck.err.find("cannot checkpoint: "), std::string::npos) << ck.err;
  for (const auto& text : r.expected) EXPECT_NE(ck.err.find(text), std::string::npos) << ck.err;
  ASSERT_FALSE(ck.err.empty());
  EXPECT_EQ(ck.err.find('\n'), ck.err.size() - 1) << "not one line: " << ck.err;

  EXPECT_FALSE(exists(image)) << "an image was left behind";
  EXPECT_TRUE(image_leftovers(image).empty()) << ::testing::PrintToString(image_leftovers(image));
  auto state = cli({"state", c.id()});
  EXPECT_NE(state.out.find("\"status\": \"running\""), std::string::npos) << state.out;
  EXPECT_TRUE(c.counter_advances()) << "the container stopped after a refused checkpoint";
}

INSTANTIATE_TEST_SUITE_P(
    EachKind, CheckpointRefusesNamespaceState,
    ::testing::Values(
        Refusal{"SysvSharedMemory",
                {"--shm", "c4b0001"},
                1,
                {"SysV shared memory segment key 0x0c4b0001 id ", "(4096 bytes, 0 attached)",
                 "not captured yet"}},
        Refusal{"SysvSemaphores",
                {"--sem", "c4b0002", "3"},
                1,
                {"SysV semaphore set key 0x0c4b0002 id ", "(3 semaphores)", "ipcrm -s"}},
        Refusal{"SysvMessageQueue",
                {"--msg", "c4b0003"},
                1,
                {"SysV message queue key 0x0c4b0003 id ", "ipcrm -q"}},
        Refusal{"PosixMessageQueue",
                {"--mq", "ckpt-queue"},
                1,
                {"POSIX message queue /ckpt-queue is in the container's IPC namespace"}},
        Refusal{"TmpfsMountedAtRunTime",
                {"--mount-tmpfs", "/tmp/x"},
                1,
                {"mount /tmp/x (tmpfs) was added at run time; restore cannot recreate it yet"}},
        Refusal{"SpecMountRemountedReadOnly",
                {"--remount-ro", "/tmp"},
                1,
                {"mount /tmp (tmpfs) was changed at run time (options rw", " -> ro"}},
        Refusal{"SpecMountUnmounted",
                {"--umount", "/tmp"},
                1,
                {"mount /tmp (tmpfs) was unmounted at run time"}},
        Refusal{"TaskInItsOwnMountNamespace",
                {"--unshare-child", "mnt"},
                2,
                {"pid 2 (nsstate) is in a mount namespace of its own", "unshare -m"}},
        Refusal{"TaskInItsOwnUtsNamespace",
                {"--unshare-child", "uts"},
                2,
                {"pid 2 (nsstate) is in a UTS namespace of its own", "unshare -u"}}),
    [](const auto& info) { return std::string(info.param.name); });

// The objects of the report, made with util-linux's ipcmk by another process.
TEST(NamespaceState, IpcmkObjectsAreRefusedEvenUnattached) {
  CKPT_REQUIRE_ROOT();
  if (!exists("/usr/bin/ipcmk")) GTEST_SKIP() << "no /usr/bin/ipcmk on this host";
  Cli cli;
  NsStateContainer c(cli, "ipcmk", {});
  ASSERT_TRUE(c.start());
  auto mk = cli({"exec", c.id(), "--", "/bin/sh", "-c",
                 "/usr/bin/ipcmk -M 4096 && /usr/bin/ipcmk -S 3 && /usr/bin/ipcmk -Q"});
  ASSERT_EQ(mk.exit_code, 0) << mk.err;
  std::string image = cli.scratch().file("image");
  auto ck = cli({"checkpoint", "--image-path", image, c.id()}, seconds(120));
  EXPECT_EQ(ck.exit_code, 1) << ck.err;
  EXPECT_NE(ck.err.find("cannot checkpoint: SysV shared memory segment key 0x"), std::string::npos)
      << ck.err;
  EXPECT_NE(ck.err.find("(and 2 more problems)"), std::string::npos) << ck.err;
  EXPECT_FALSE(exists(image));
  EXPECT_TRUE(c.counter_advances());

  // Once they are removed, the same container checkpoints.
  ASSERT_EQ(cli({"exec", c.id(), "--", "/usr/bin/ipcrm", "--all"}).exit_code, 0);
  ck = cli({"checkpoint", "--leave-running", "--image-path", image, c.id()}, seconds(120));
  EXPECT_EQ(ck.exit_code, 0) << ck.err;
  EXPECT_TRUE(c.counter_advances());
}

}  // namespace
}  // namespace ckpt::test
