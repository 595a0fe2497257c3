// Checkpoint and restore of user-namespace containers through the crun-ckpt binary. The
// workload (tests/workloads/userns_tree.cc) is a tree with a process switched to uids/gids 1000+
// with extra groups and a second thread, one with reduced capabilities, a seccomp filter and an
// interval timer, an unreaped child and a shared page; each process reports from inside its
// ids, groups, capability sets, /proc/self/uid_map, gid_map and setgroups, and creates a file
// whose host owner the test checks against the container's maps.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>

#include "container_fixture.h"
#include "harness.h"

namespace ckpt::test {
namespace {

using std::chrono::seconds;
using Report = std::map<std::string, std::string>;

struct Range {
  uint32_t inside, outside, count;
};

// The host id that inside id `id` maps to, as the test computes it from the spec it wrote.
std::optional<uint32_t> to_host(const std::vector<Range>& map, uint32_t id) {
  for (const Range& r : map)
    if (id >= r.inside && id - r.inside < r.count) return r.outside + (id - r.inside);
  return std::nullopt;
}

std::string yaml_map(const std::vector<Range>& map) {
  std::string out = "[";
  for (size_t i = 0; i < map.size(); ++i) {
    out += (i ? ", " : "") + std::string("{container_id: ") + std::to_string(map[i].inside) +
           ", host_id: " + std::to_string(map[i].outside) +
           ", size: " + std::to_string(map[i].count) + "}";
  }
  return out + "]";
}

// The i-th of the comma-separated ids in a report value ("1000,1001,1002,1003").
uint32_t nth_id(const std::string& list, size_t i) {
  std::istringstream in(list);
  std::string item;
  for (size_t n = 0; std::getline(in, item, ','); ++n)
    if (n == i) return static_cast<uint32_t>(std::stoul(item));
  ADD_FAILURE() << "no id " << i << " in '" << list << "'";
  return 0;
}

// -1 while the workload rewrites the file (it is empty for a moment).
long counter_of(const std::string& dir, const std::string& pid) {
  std::string text = slurp(dir + "/status-" + pid);
  return text.rfind("counter=", 0) == 0 ? std::stol(text.substr(8)) : -1;
}

// A container running userns_tree with its report directory at /mnt. The directory is open to
// every id (the workload's processes run as several mapped ids).
class UsernsContainer {
 public:
  // `maps`: empty for the default mappings; `groups`: additional_gids (setgroups allowed).
  UsernsContainer(Cli& cli, const std::string& prefix, const std::vector<std::string>& flags,
                  const std::string& extra_yaml, std::vector<Range> uid_map,
                  std::vector<Range> gid_map)
      : cli_(cli),
        id_(unique_name(prefix)),
        dir_("ckpt-userns"),
        uid_map_(std::move(uid_map)),
        gid_map_(std::move(gid_map)) {
    cli_.track(id_);
    ::chmod(dir_.path().c_str(), 0777);
    std::vector<std::string> args = {workload("userns_tree"), "/mnt", "4"};
    args.insert(args.end(), flags.begin(), flags.end());
    spec_ = write_spec(cli_, id_, args, extra_yaml + report_mount(dir_.path()));
  }
  // The containers go before their report directory, which they write into while they run.
  ~UsernsContainer() {
    for (const auto& id : ids_) cli_({"delete", "-f", id});
  }
  const std::string& id() const { return id_; }
  const std::string& spec() const { return spec_; }
  const std::string& dir() const { return dir_.path(); }
  void track(const std::string& id) {
    cli_.track(id);
    ids_.push_back(id);
  }

  bool wait_running(size_t processes) const {
    return wait_until(
        [&] {
          auto pids = status_pids(dir());
          if (pids.size() != processes) return false;
          for (const auto& pid : pids)
            if (counter_of(dir(), pid) < 3) return false;
          return true;
        },
        seconds(60));
  }

  // Reports of every process of container `id`, by pid. Waits first until init's counter passed
  // `init_past`, so every shm_init read after that is at least that far.
  std::map<std::string, Report> reports(const std::string& id, size_t processes, long init_past) {
    long seen = -1;
    EXPECT_TRUE(
        wait_until([&] { return (seen = counter_of(dir(), "1")) > init_past; }, seconds(30)))
        << "init of " << id << " does not count on";
    last_init_counter_ = seen;
    std::map<std::string, Report> out;
    for (const auto& [pid, text] : request_reports(cli_, id, dir(), processes))
      out[pid] = parse_key_values(text);
    return out;
  }
  long last_init_counter() const { return last_init_counter_; }

  // Checks the host owner of the file each process created for its last report: the mapped
  // fsuid and fsgid it reported from inside.
  void expect_owners(std::map<std::string, Report>& reports) const {
    for (auto& [pid, r] : reports) {
      SCOPED_TRACE("owner file of pid " + pid + " (" + r["role"] + ")");
      struct stat st {};
      ASSERT_EQ(::stat((dir() + "/owner-" + pid).c_str(), &st), 0);
      auto uid = to_host(uid_map_, nth_id(r["uid"], 3));
      auto gid = to_host(gid_map_, nth_id(r["gid"], 3));
      ASSERT_TRUE(uid && gid) << r["uid"] << " " << r["gid"];
      EXPECT_EQ(st.st_uid, *uid);
      EXPECT_EQ(st.st_gid, *gid);
    }
  }

 private:
  Cli& cli_;
  std::string id_;
  TempDir dir_;
  std::vector<Range> uid_map_, gid_map_;
  std::string spec_;
  std::vector<std::string> ids_{id_};
  long last_init_counter_ = 0;
};

const char* const kSameKeys[] = {
    "role",    "pid",       "ppid",   "pgid",       "digest",    "uid",        "gid",     "groups",
    "capinh",  "capprm",    "capeff", "capbnd",     "capamb",    "nonewprivs", "seccomp", "uid_map",
    "gid_map", "setgroups", "zombie", "thread_uid", "itimer_us", "acct"};

// Every process of `after` is the one of `before` (same pid and everything it reported about
// itself), its memory is intact, its counters went on from `before`, and it sees init's
// counter in the shared page live (past `init_counter`).
void expect_same(std::map<std::string, Report>& before, std::map<std::string, Report>& after,
                 long init_counter) {
  ASSERT_EQ(after.size(), before.size());
  for (auto& [pid, r] : after) {
    SCOPED_TRACE("pid " + pid + " (" + r["role"] + ")");
    ASSERT_EQ(before.count(pid), 1u);
    Report& b = before[pid];
    for (const char* key : kSameKeys) EXPECT_EQ(r[key], b[key]) << key;
    EXPECT_EQ(r["digest"], r["start_digest"]);
    EXPECT_GT(std::stol(r["counter"]), std::stol(b["counter"])) << "the counter restarted";
    EXPECT_GE(std::stol(r["shm_init"]), init_counter) << "the shared page is no longer shared";
    if (r["role"] == "nonroot") {
      EXPECT_GT(std::stol(r["thread_counter"]), std::stol(b["thread_counter"]));
    }
    if (r["role"] == "reduced") {
      EXPECT_GT(std::stol(r["alarms"]), std::stol(b["alarms"])) << "the interval timer stopped";
    }
  }
}

// What the workload must show before any checkpoint, so that "the same after" means something.
void expect_workload_state(std::map<std::string, Report>& r, bool setgroups_allowed) {
  ASSERT_EQ(r.size(), 4u);
  std::map<std::string, Report*> by_role;
  for (auto& [pid, report] : r) by_role[report["role"]] = &report;
  ASSERT_EQ(by_role.size(), 4u);
  Report& nonroot = *by_role["nonroot"];
  EXPECT_EQ(nonroot["uid"], "1000,1001,1002,1000");
  EXPECT_EQ(nonroot["gid"], "1000,1001,1002,1003");
  EXPECT_EQ(nonroot["thread_uid"], "1000,1001,1002,1000");
  EXPECT_EQ(nonroot["capeff"], "0000000000000000");
  if (setgroups_allowed) {
    EXPECT_EQ(nonroot["groups"], "1000,2000,3000");
    EXPECT_EQ((*by_role["init"])["groups"], "10,20") << "process.user.additional_gids";
  }
  Report& reduced = *by_role["reduced"];
  EXPECT_EQ(reduced["uid"], "0,0,0,0");
  EXPECT_EQ(reduced["capeff"], "0000000000000421");
  EXPECT_EQ(reduced["capprm"], "00000000000004e3");
  EXPECT_EQ(reduced["capamb"], "0000000000000400");
  EXPECT_EQ(reduced["acct"], "77");
  EXPECT_EQ(reduced["itimer_us"], "50000");
  EXPECT_EQ((*by_role["init"])["zombie"], "Z");
  for (auto& [pid, report] : r)
    EXPECT_EQ(report["setgroups"], setgroups_allowed ? "allow" : "deny");
}

// Plain checkpoint and restore, twice, then --leave-running and a restore under another name
// beside the original: every time each process is exactly as before, observed from inside.
void checkpoint_cycles(Cli& cli, UsernsContainer& c, bool setgroups_allowed) {
  ASSERT_EQ(cli({"run", "-d", c.spec()}).exit_code, 0);
  ASSERT_TRUE(c.wait_running(4));
  auto before = c.reports(c.id(), 4, 0);
  expect_workload_state(before, setgroups_allowed);
  c.expect_owners(before);

  for (int cycle = 1; cycle <= 2; ++cycle) {
    SCOPED_TRACE("cycle " + std::to_string(cycle));
    std::string image = cli.scratch().file("image-" + std::to_string(cycle));
    auto ck = cli({"checkpoint", "--image-path", image, c.id()}, seconds(120));
    ASSERT_EQ(ck.exit_code, 0) << ck.err;
    long init_at_checkpoint = counter_of(c.dir(), "1");
    auto rs = cli({"restore", "-d", "--image-path", image}, seconds(120));
    ASSERT_EQ(rs.exit_code, 0) << rs.err;
    auto after = c.reports(c.id(), 4, init_at_checkpoint);
    expect_same(before, after, c.last_init_counter());
    c.expect_owners(after);
    before = after;
  }

  SCOPED_TRACE("--leave-running and a copy");
  std::string image = cli.scratch().file("image-copy");
  auto ck = cli({"checkpoint", "--leave-running", "--image-path", image, c.id()}, seconds(120));
  ASSERT_EQ(ck.exit_code, 0) << ck.err;
  auto original = c.reports(c.id(), 4, counter_of(c.dir(), "1"));
  expect_same(before, original, c.last_init_counter());
  std::string copy = c.id() + "-copy";
  c.track(copy);
  auto rs = cli({"restore", "-d", "--image-path", image, "--name", copy}, seconds(120));
  ASSERT_EQ(rs.exit_code, 0) << rs.err;
  // Both containers run and write the same status files; only the one asked reports.
  auto copied = c.reports(copy, 4, counter_of(c.dir(), "1"));
  expect_same(before, copied, 0);
  c.expect_owners(copied);
  EXPECT_NE(cli({"state", c.id()}).out.find("\"running\""), std::string::npos);
}

TEST(CheckpointRestoreUserns, ExplicitMapsSetgroupsAllowedTwoCyclesAndACopy) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  // Two extents per map, different for uids and gids, so a wrong translation shows.
  std::vector<Range> uids = {{0, 300000, 1000}, {1000, 410000, 64536}};
  std::vector<Range> gids = {{0, 500000, 1000}, {1000, 610000, 64536}};
  // The first extra line continues the `process:` mapping write_spec ends with.
  UsernsContainer c(cli, "usx", {"--setgroups"},
                    "  user: {uid: 0, gid: 0, additional_gids: [10, 20]}\n"
                    "namespaces: [pid, mount, net, uts, ipc, time, user]\n"
                    "uid_mappings: " +
                        yaml_map(uids) + "\ngid_mappings: " + yaml_map(gids) + "\n",
                    uids, gids);
  checkpoint_cycles(cli, c, true);
}

TEST(CheckpointRestoreUserns, DefaultMapsSetgroupsDeniedTwoCyclesAndACopy) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  // The spec's default: container 0.. -> host 100000.., 65536 ids; no additional_gids, so the
  // namespace's setgroups is deny and the workload keeps the groups it was started with.
  std::vector<Range> ids = {{0, 100000, 65536}};
  UsernsContainer c(cli, "usd", {}, "namespaces: [pid, mount, net, uts, ipc, time, user]\n", ids,
                    ids);
  checkpoint_cycles(cli, c, false);
}

}  // namespace
}  // namespace ckpt::test

namespace ckpt::test {
namespace {

// Groups the runtime gave the container and its namespace does not map (setgroups deny): only a
// restore that passes the same groups on by inheritance can bring them back. Any other is
// refused in one line and leaves nothing; the right one restores them.
TEST(CheckpointRestoreUserns, UnmappedGroupsComeBackOnlyByInheritance) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::vector<Range> ids = {{0, 100000, 65536}};
  UsernsContainer c(cli, "usg", {}, "namespaces: [pid, mount, net, uts, ipc, time, user]\n", ids,
                    ids);
  auto with_groups = [&](const std::string& groups, std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/setpriv", "--groups=" + groups, binary(), "--root",
                                     cli.root()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, seconds(120));
  };
  auto run = with_groups("4242,77", {"run", "-d", c.spec()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_TRUE(c.wait_running(4));
  auto before = c.reports(c.id(), 4, 0);
  // Inside, a group the namespace does not map shows as the overflow gid.
  for (auto& [pid, r] : before) EXPECT_EQ(r["groups"], "65534,65534") << pid;

  std::string image = cli.scratch().file("image");
  auto ck = cli({"checkpoint", "--image-path", image, c.id()}, seconds(120));
  ASSERT_EQ(ck.exit_code, 0) << ck.err;
  long init_at_checkpoint = counter_of(c.dir(), "1");

  auto refused = with_groups("4242", {"restore", "-d", "--image-path", image});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("host gids 77,4242"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("run the restore with the supplementary groups"), std::string::npos)
      << refused.err;
  EXPECT_EQ(std::count(refused.err.begin(), refused.err.end(), '\n'), 1) << refused.err;
  EXPECT_NO_LEFTOVERS(cli, c.id());

  auto rs = with_groups("77,4242", {"restore", "-d", "--image-path", image});
  ASSERT_EQ(rs.exit_code, 0) << rs.err;
  auto after = c.reports(c.id(), 4, init_at_checkpoint);
  expect_same(before, after, c.last_init_counter());
  std::string state = cli({"state", c.id()}).out;
  size_t at = state.find("\"pid\":");
  ASSERT_NE(at, std::string::npos) << state;
  std::string host_pid = std::to_string(std::stol(state.substr(at + 6)));
  std::string status = slurp("/proc/" + host_pid + "/status");
  EXPECT_NE(status.find("Groups:\t77 4242"), std::string::npos) << status;
}

// A process in a user namespace of its own (the workload's `unshare -U`) cannot be restored: the
// checkpoint refuses in one line naming it, writes no image, and the container runs on as it
// was; in a container with a user namespace and in one without.
TEST(CheckpointRestoreUserns, NestedUserNamespaceIsRefusedAndTheContainerRunsOn) {
  CKPT_REQUIRE_ROOT();
  for (bool own : {true, false}) {
    SCOPED_TRACE(own ? "container with a user namespace" : "container without one");
    Cli cli;
    std::vector<Range> ids = {{0, own ? 100000u : 0u, own ? 65536u : 4294967295u}};
    UsernsContainer c(cli, "usn", {"--nested"},
                      own ? "namespaces: [pid, mount, net, uts, ipc, time, user]\n" : "", ids, ids);
    ASSERT_EQ(cli({"run", "-d", c.spec()}).exit_code, 0);
    ASSERT_TRUE(c.wait_running(5));
    auto before = c.reports(c.id(), 5, 0);
    std::string nested;
    for (auto& [pid, r] : before)
      if (r["role"] == "nested") nested = pid;
    ASSERT_FALSE(nested.empty());

    std::string image = cli.scratch().file("image");
    auto ck = cli({"checkpoint", "--image-path", image, c.id()}, seconds(120));
    ASSERT_EQ(ck.exit_code, 1) << "a checkpoint that succeeded has stopped the container";
    EXPECT_NE(ck.err.find("pid " + nested + " (userns_tree) is in user namespace"),
              std::string::npos)
        << ck.err;
    EXPECT_NE(ck.err.find("nested user namespaces cannot be restored"), std::string::npos)
        << ck.err;
    EXPECT_EQ(std::count(ck.err.begin(), ck.err.end(), '\n'), 1) << ck.err;
    EXPECT_FALSE(std::filesystem::exists(image));
    EXPECT_NE(cli({"state", c.id()}).out.find("\"running\""), std::string::npos);

    auto after = c.reports(c.id(), 5, counter_of(c.dir(), "1"));
    ASSERT_EQ(after.size(), 5u);
    for (auto& [pid, r] : after) {
      SCOPED_TRACE("pid " + pid);
      for (const char* key : kSameKeys) EXPECT_EQ(r[key], before[pid][key]) << key;
      EXPECT_GT(std::stol(r["counter"]), std::stol(before[pid]["counter"]));
    }
  }
}

}  // namespace
}  // namespace ckpt::test
