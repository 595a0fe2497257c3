// Restore end to end without the dump engine: run a workload as pid 1 of its own pid
// namespace, snapshot it with the test-only snapshot (restore_snapshot.h), kill it, restore it
// with run_stub + restore_tree in a fresh pid namespace, and check what the workload itself
// prints afterwards: same pids, groups and sessions, the same start token (not restarted), a
// counter that went on, intact memory, and a SIGUSR1 handler that still works.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <map>
#include <sstream>

#include "common/error.h"
#include "common/unique_fd.h"
#include "harness.h"
#include "image/image.h"
#include "restore_snapshot.h"
#include "runtime/restore/restore.h"

namespace ckpt::restore {
namespace {

// A child in a new pid namespace, running `body` (which must not return); killed and reaped
// on destruction.
class NamespaceChild {
 public:
  explicit NamespaceChild(const std::function<void()>& body) {
    clone_args args{};
    args.flags = CLONE_NEWPID;
    args.exit_signal = SIGCHLD;
    pid_ = static_cast<pid_t>(syscall(SYS_clone3, &args, sizeof(args)));
    if (pid_ < 0) throw sys_error("clone3(CLONE_NEWPID)");
    if (pid_ == 0) {
      body();
      _exit(127);
    }
  }
  ~NamespaceChild() { stop(); }
  pid_t pid() const { return pid_; }
  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    while (waitpid(pid_, nullptr, __WALL) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }
  // Forget the pid: someone else (RestoredTree) reaps it.
  void disown() { pid_ = -1; }

 private:
  pid_t pid_ = -1;
};

struct Line {
  pid_t pid = 0, ppid = 0, pgid = 0, sid = 0;
  uint64_t counter = 0;
  std::string token;
  int digest_ok = 0, usr1 = 0, usr2_pending = 0;
};

Line parse_line(const std::string& text) {
  Line l;
  std::istringstream in(text);
  std::string kv;
  while (in >> kv) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos) continue;
    std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
    if (k == "pid") l.pid = std::stoi(v);
    if (k == "ppid") l.ppid = std::stoi(v);
    if (k == "pgid") l.pgid = std::stoi(v);
    if (k == "sid") l.sid = std::stoi(v);
    if (k == "counter") l.counter = std::stoull(v);
    if (k == "token") l.token = v;
    if (k == "digest_ok") l.digest_ok = std::stoi(v);
    if (k == "usr1") l.usr1 = std::stoi(v);
    if (k == "usr2_pending") l.usr2_pending = std::stoi(v);
  }
  return l;
}

// Reads workload lines from a pipe until `done` says enough or the timeout passes.
class LineReader {
 public:
  explicit LineReader(UniqueFd fd) : fd_(std::move(fd)) {}
  bool read_until(const std::function<bool(const Line&)>& done,
                  std::chrono::seconds timeout = std::chrono::seconds(20)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      size_t nl;
      while ((nl = buf_.find('\n')) != std::string::npos) {
        Line l = parse_line(buf_.substr(0, nl));
        buf_.erase(0, nl + 1);
        last_[l.pid] = l;
        if (done(l)) return true;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd pfd{fd_.get(), POLLIN, 0};
      if (poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
      char tmp[4096];
      ssize_t n = read(fd_.get(), tmp, sizeof(tmp));
      if (n <= 0) return false;
      buf_.append(tmp, n);
    }
  }
  const std::map<pid_t, Line>& last() const { return last_; }

 private:
  UniqueFd fd_;
  std::string buf_;
  std::map<pid_t, Line> last_;
};

std::pair<UniqueFd, UniqueFd> make_pipe() {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) throw sys_error("pipe2");
  return {UniqueFd(p[0]), UniqueFd(p[1])};
}

// Puts `out` on fd 1, /dev/null on 0, keeps 2, and closes everything else but `keep`.
void setup_stdio(int out, int keep = -1) {
  int null = open("/dev/null", O_RDONLY);
  dup2(null, 0);
  dup2(out, 1);
  for (int fd = 3; fd < 1024; ++fd) {
    if (fd != keep) close(fd);
  }
}

struct Scenario {
  std::vector<std::string> argv;
  size_t nprocs = 1;
  bool via_image = false;     // write the snapshot into a real image dir and restore from it
  std::string file;           // the workload's output file (mode "file"), checked for continuity
  bool pending_usr2 = false;  // send init a (blocked) SIGUSR2 before the snapshot
};

// Writes the in-memory snapshot as a real image (zstd streams) and reads it back.
std::unique_ptr<image::ImageReader> to_image(const test::Snapshot& snap, const std::string& dir) {
  image::ImageWriter writer(dir);
  for (const auto& [name, bytes] : snap.image.files) writer.add_file(name, bytes);
  for (const auto& [name, bytes] : snap.image.streams) {
    image::StreamWriter& out = writer.open_stream(name, image::CompressionSpec{});
    out.write(bytes.data(), bytes.size());
  }
  writer.commit(nlohmann::json::object());
  return std::make_unique<image::ImageReader>(dir);
}

// Every line of the workload's file, in order: counters must run 1, 2, 3... with one token.
void check_file_continuity(const std::string& path, uint64_t at_least) {
  std::istringstream in(test::slurp(path));
  std::string text;
  uint64_t expect = 1;
  std::string token;
  while (std::getline(in, text)) {
    Line l = parse_line(text);
    ASSERT_EQ(l.counter, expect) << "gap or overwrite in " << path << " at line " << expect;
    if (token.empty()) token = l.token;
    ASSERT_EQ(l.token, token);
    ++expect;
  }
  EXPECT_GT(expect, at_least) << "the restored workload did not write to its file";
}

// The credential lines of /proc/PID/status (ids, groups, capability sets, NoNewPrivs).
std::string credentials_of(pid_t pid) {
  std::string out;
  std::istringstream in(test::slurp("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line)) {
    for (const char* key : {"Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:", "CapBnd:",
                            "CapAmb:", "NoNewPrivs:"}) {
      if (line.rfind(key, 0) == 0) out += line + "\n";
    }
  }
  return out;
}

void run_and_check(const Scenario& sc) {
  const size_t nprocs = sc.nprocs;
  // 1. Run the workload and let every process print a few lines.
  auto [out_r, out_w] = make_pipe();
  std::string path = test::workload("restore_counter");
  NamespaceChild workload([&] {
    setup_stdio(out_w.get());
    std::vector<char*> args;
    for (const std::string& a : sc.argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(path.c_str(), args.data());
  });
  out_w.reset();
  LineReader before(std::move(out_r));
  ASSERT_TRUE(before.read_until([&](const Line&) {
    if (before.last().size() < nprocs) return false;
    for (const auto& [pid, l] : before.last()) {
      if (l.counter < 5) return false;
    }
    return true;
  })) << "the workload did not start";

  if (sc.pending_usr2) {
    ASSERT_EQ(kill(workload.pid(), SIGUSR2), 0);
    ASSERT_TRUE(before.read_until([](const Line& l) { return l.pid == 1 && l.usr2_pending; }));
  }

  std::string creds_before = credentials_of(workload.pid());

  // 2. Snapshot it; it dies stopped, right after.
  test::Snapshot snap = test::snapshot_and_kill_tree(workload.pid());
  workload.stop();
  ASSERT_EQ(snap.checkpoint.processes.size(), nprocs);
  before.read_until([](const Line&) { return false; }, std::chrono::seconds(5));  // drain to EOF
  std::map<pid_t, Line> seen = before.last();
  test::TempDir dir("ckpt-restore-img");
  std::unique_ptr<image::ImageReader> reader;
  if (sc.via_image) reader = to_image(snap, dir.file("image"));

  // 3. Restore in a fresh pid namespace.
  RestorePlan plan = plan_restore(snap.checkpoint);
  auto [ctl_r, ctl_w] = make_pipe();
  auto [new_r, new_w] = make_pipe();
  NamespaceChild stub([&] {
    setup_stdio(new_w.get(), ctl_w.get());
    run_stub(plan, ctl_w.get());
  });
  ctl_w.reset();
  new_w.reset();
  RestoreOptions options;
  options.stub_control_fd = ctl_r.get();
  options.suspend_seccomp = true;  // as the real restore: restored filters must not block it
  RestoredTree tree = reader ? restore_tree(stub.pid(), snap.checkpoint, *reader, options)
                             : restore_tree(stub.pid(), snap.checkpoint, snap.image, options);
  stub.disown();  // the tree kills and reaps it from now on
  ASSERT_EQ(tree.tasks().size(), nprocs);
  tree.resume();
  // The restored init is our child: kill and reap it (and with it the namespace) at the end.
  struct InitGuard {
    pid_t pid;
    ~InitGuard() {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  } init_guard{tree.init_host_pid()};

  // 4. What the restored workload says about itself.
  LineReader after(std::move(new_r));
  std::map<pid_t, Line> first;
  ASSERT_TRUE(after.read_until([&](const Line& l) {
    first.emplace(l.pid, l);
    return first.size() == nprocs;
  })) << "the restored workload printed nothing";
  for (const auto& [pid, l] : first) {
    SCOPED_TRACE("pid " + std::to_string(pid));
    ASSERT_EQ(seen.count(pid), 1u) << "a process with an unknown pid appeared";
    const Line& old = seen.at(pid);
    EXPECT_EQ(l.token, old.token) << "restarted instead of restored";
    EXPECT_EQ(l.counter, old.counter + 1) << "the counter did not go on from the snapshot";
    EXPECT_EQ(l.digest_ok, 1);
    EXPECT_EQ(l.ppid, old.ppid);
    EXPECT_EQ(l.pgid, old.pgid);
    EXPECT_EQ(l.sid, old.sid);
    EXPECT_EQ(l.usr2_pending, old.usr2_pending) << "pending signals or the mask were lost";
  }
  EXPECT_EQ(credentials_of(tree.host_pid(1)), creds_before);
  // The SIGUSR1 handler came back with the sigactions.
  ASSERT_EQ(kill(tree.host_pid(1), SIGUSR1), 0);
  EXPECT_TRUE(after.read_until([](const Line& l) { return l.pid == 1 && l.usr1 == 1; }));
  uint64_t target = first[1].counter + 20;
  EXPECT_TRUE(after.read_until([&](const Line& l) { return l.pid == 1 && l.counter > target; }))
      << "the restored init stopped making progress";
  if (!sc.file.empty()) check_file_continuity(sc.file, target);
}

TEST(RestoreTree, SingleProcessContinuesWithSamePidMemoryAndHandlers) {
  CKPT_REQUIRE_ROOT();
  run_and_check({.argv = {"restore_counter"}, .pending_usr2 = true});
}

TEST(RestoreTree, TreeWithSessionsAndGroupsContinues) {
  CKPT_REQUIRE_ROOT();
  run_and_check({.argv = {"restore_counter", "tree"}, .nprocs = 4});
}

TEST(RestoreTree, RegularFileFdKeepsItsPosition) {
  CKPT_REQUIRE_ROOT();
  test::TempDir dir("ckpt-restore-file");
  std::string file = dir.file("out.log");
  run_and_check({.argv = {"restore_counter", "file", file}, .file = file});
}

TEST(RestoreTree, UnprivilegedProcessGetsItsCredentialsBack) {
  CKPT_REQUIRE_ROOT();
  run_and_check({.argv = {"restore_counter", "user"}});
}

TEST(RestoreTree, FromARealImageDirectory) {
  CKPT_REQUIRE_ROOT();
  run_and_check({.argv = {"restore_counter", "tree"}, .nprocs = 4, .via_image = true});
}

}  // namespace
}  // namespace ckpt::restore

namespace ckpt::restore {
namespace {

TEST(RestoreTree, FailedRestoreNamesTheCauseAndLeavesNothingBehind) {
  CKPT_REQUIRE_ROOT();
  auto [out_r, out_w] = make_pipe();
  std::string path = test::workload("restore_counter");
  NamespaceChild workload([&] {
    setup_stdio(out_w.get());
    execl(path.c_str(), "restore_counter", nullptr);
  });
  out_w.reset();
  LineReader before(std::move(out_r));
  ASSERT_TRUE(before.read_until([](const Line& l) { return l.counter >= 2; }));
  test::Snapshot snap = test::snapshot_and_kill_tree(workload.pid());
  workload.stop();
  // Break the image: the program's file mapping now points at a missing file.
  bool broken = false;
  for (model::Vma& v : snap.checkpoint.processes.at(0).vmas) {
    if (v.kind == model::VmaKind::file_private && !broken) {
      v.path = "/nonexistent-ckpt-test/program";
      broken = true;
    }
  }
  ASSERT_TRUE(broken);

  RestorePlan plan = plan_restore(snap.checkpoint);
  auto [ctl_r, ctl_w] = make_pipe();
  NamespaceChild stub([&] {
    setup_stdio(1, ctl_w.get());
    run_stub(plan, ctl_w.get());
  });
  ctl_w.reset();
  RestoreOptions options;
  options.stub_control_fd = ctl_r.get();
  options.suspend_seccomp = true;  // as the real restore: restored filters must not block it
  pid_t stub_pid = stub.pid();
  try {
    restore_tree(stub_pid, snap.checkpoint, snap.image, options);
    ADD_FAILURE() << "restore of a broken image succeeded";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("restore pid 1"), std::string::npos) << what;
    EXPECT_NE(what.find("/nonexistent-ckpt-test/program"), std::string::npos) << what;
    EXPECT_NE(what.find("No such file"), std::string::npos) << what;
  }
  // The tree killed and reaped the stub namespace on its way out.
  EXPECT_EQ(kill(stub_pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
  stub.disown();
}

TEST(RestoreTree, StubWithTheWrongPidReportsAnError) {
  CKPT_REQUIRE_ROOT();
  // run_stub outside a fresh pid namespace: its pid is not 1, and it must say so on the
  // control pipe (and exit) instead of building a tree with the wrong pids.
  model::Checkpoint c;
  model::Process p;
  p.pid = 1;
  p.pgid = 1;
  p.sid = 1;
  p.threads.push_back(model::Thread{.tid = 1});
  c.processes.push_back(p);
  RestorePlan plan = plan_restore(c);
  auto [ctl_r, ctl_w] = make_pipe();
  pid_t child = fork();  // not in a new pid namespace: its pid is not 1
  ASSERT_GE(child, 0);
  if (child == 0) {
    setup_stdio(1, ctl_w.get());
    run_stub(plan, ctl_w.get());
  }
  ctl_w.reset();
  try {
    wait_for_stubs(ctl_r.get(), std::chrono::seconds(10));
    ADD_FAILURE() << "a stub with the wrong pid reported ok";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("instead of 1"), std::string::npos) << e.what();
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
}

}  // namespace
}  // namespace ckpt::restore
