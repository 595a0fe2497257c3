// The dump side of the checkpoint engine against real workloads in a fresh pid namespace and a
// test cgroup: the model matches the workload (pids, threads, mappings, fds, page counts), an
// unsupported fd is refused by name, and a dump that fails at any stage leaves the workload
// running, untraced, with no image left behind.
#include <dirent.h>
#include <gtest/gtest.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <unistd.h>

#include <cstring>
#include <set>

#include "cgroup_helpers.h"
#include "common/error.h"
#include "common/file_util.h"
#include "harness.h"
#include "image/image.h"
#include "ns_child.h"
#include "runtime/checkpoint/checkpoint.h"
#include "runtime/model/model_json.h"

namespace ckpt::checkpoint {
namespace {

using test::NsChild;

// memhog as pid 1 of a new pid namespace, inside a test cgroup. Member order matters for
// cleanup: the child is killed and reaped before the cgroup is removed.
class Workload {
 public:
  explicit Workload(std::vector<std::string> extra_args, int mib = 16,
                    cgroup::FreezerKind freezer = cgroup::FreezerKind::automatic)
      : cg_(freezer, "ckdump"),
        counter_(dir_.file("counter")),
        child_(CLONE_NEWPID, [this, mib, extra_args](int report_fd, int go_fd) {
          test::wait_go(go_fd);
          int devnull = open("/dev/null", O_RDWR);
          dup2(devnull, 0);
          dup2(devnull, 2);
          dup2(report_fd, 1);  // stdout: a pipe whose reader (the test) is outside
          // Whatever the test runner leaked to us (fds without O_CLOEXEC) must not reach the
          // workload: the dump would rightly refuse them.
          syscall(SYS_close_range, 3, ~0U, 0);
          std::vector<std::string> args = {test::workload("memhog"), std::to_string(mib), counter_};
          args.insert(args.end(), extra_args.begin(), extra_args.end());
          std::vector<char*> argv;
          for (auto& a : args) argv.push_back(a.data());
          argv.push_back(nullptr);
          execv(argv[0], argv.data());
          return 127;
        }) {
    if (child_.pid() <= 0) throw sys_error("clone3(CLONE_NEWPID)");
    cg_->add_process(child_.pid());
    child_.go();
    report_ = child_.read_report("ready");
    if (report_["ready"] != "1") throw Error("memhog did not start");
  }

  pid_t host_pid() const { return child_.pid(); }
  cgroup::Cgroup& cgroup() { return cg_.get(); }
  const std::string& counter_path() const { return counter_; }
  std::string report(const std::string& key) { return report_[key]; }
  test::TempDir& dir() { return dir_; }

  uint64_t counter() const {
    std::string text = test::slurp(counter_);
    return text.empty() ? 0 : std::stoull(text);
  }
  // True when the counter moves within a generous time (never a pass/fail timing).
  bool counter_advances() const {
    uint64_t before = counter();
    return test::wait_until([&] { return counter() > before; }, std::chrono::seconds(10));
  }
  std::string tracer_pid() const {
    std::string status = test::slurp("/proc/" + std::to_string(child_.pid()) + "/status");
    size_t at = status.find("TracerPid:");
    if (at == std::string::npos) return "?";
    return std::string(trim(status.substr(at + 10, status.find('\n', at) - at - 10)));
  }

 private:
  test::TestCgroup cg_;
  test::TempDir dir_{"ckdump"};
  std::string counter_;
  NsChild child_;
  std::map<std::string, std::string> report_;
};

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") out.push_back(name);
  }
  closedir(d);
  return out;
}

const model::Vma* vma_containing(const model::Process& p, uint64_t addr) {
  for (const auto& v : p.vmas)
    if (v.start <= addr && addr < v.end) return &v;
  return nullptr;
}

uint64_t pages_of(const model::Process& p) {
  uint64_t n = 0;
  for (const auto& v : p.vmas)
    for (const auto& r : v.runs) n += r.npages;
  return n;
}

TEST(CheckpointDump, ModelMatchesTheWorkload) {
  CKPT_REQUIRE_ROOT();
  Workload w({"--threads", "2", "--shared", "256", "--fork"}, 16);
  ASSERT_TRUE(w.counter_advances());
  std::string image_dir = w.dir().file("image");

  std::vector<std::string> stages;
  DumpOptions options;
  options.compression = image::CompressionSpec{image::Compression::none, 1, 0};
  options.progress = [&](Stage s, uint64_t) { stages.push_back(stage_name(s)); };
  model::Checkpoint cp;
  uint64_t raw_pages_bytes = 0;
  {
    SeizedContainer seized = seize_container(w.cgroup(), w.host_pid(), options);
    image::ImageWriter writer(image_dir);
    cp = dump_container(seized, writer, options);
    writer.commit({{"checkpoint", model::to_json(cp)}});
    image::ImageReader reader(image_dir);
    reader.verify_all();
    std::string regs = reader.read_file("regs-1");
    EXPECT_EQ(regs.size(), sizeof(user_regs_struct));
    // The pages in the stream are the workload's memory: its digest over the data it wrote
    // comes out the same when computed from the image.
    auto stream = reader.open_stream("pages-1");
    uint64_t data = std::stoull(w.report("data"), nullptr, 16), len = 16u << 20;
    uint64_t hash = 1469598103934665603ULL, covered = 0;
    std::vector<unsigned char> buf;
    for (const auto& v : cp.processes.at(0).vmas) {
      for (const auto& r : v.runs) {
        buf.resize(r.npages * 4096);
        stream->read(buf.data(), buf.size());
        raw_pages_bytes += buf.size();
        uint64_t lo = std::max(r.start, data), hi = std::min(r.start + buf.size(), data + len);
        for (uint64_t a = lo; a < hi; ++a) hash = (hash ^ buf[a - r.start]) * 1099511628211ULL;
        if (hi > lo) covered += hi - lo;
      }
    }
    stream->finish();  // exactly the pages of the runs, nothing more
    EXPECT_EQ(covered, len);
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
    EXPECT_EQ(hex, w.report("digest"));
  }  // seized destroyed: every task detached
  EXPECT_EQ(w.tracer_pid(), "0");
  EXPECT_TRUE(w.counter_advances()) << "the workload did not continue after the dump";

  EXPECT_EQ(stages.front(), "seize");
  ASSERT_EQ(cp.processes.size(), 2u);
  const model::Process& init = cp.processes[0];
  const model::Process& child = cp.processes[1];
  EXPECT_EQ(init.pid, 1);
  EXPECT_EQ(init.ppid, 0);
  EXPECT_EQ(init.comm, "memhog");
  EXPECT_EQ(child.pid, std::stoi(w.report("child")));
  EXPECT_EQ(child.ppid, 1);
  ASSERT_EQ(init.threads.size(), 3u);
  EXPECT_EQ(init.threads[0].tid, 1);
  std::set<pid_t> tids;
  for (const auto& t : init.threads) tids.insert(t.tid);
  EXPECT_EQ(tids.size(), 3u);
  EXPECT_EQ(init.threads[0].regs_file, "regs-1");
  EXPECT_NE(init.threads[0].fs_base, 0u);  // static glibc sets up TLS
  EXPECT_EQ(child.threads.size(), 1u);

  // Mappings: the data, the heap and the stack are covered and dumped; the vdso is not.
  uint64_t data = std::stoull(w.report("data"), nullptr, 16);
  const model::Vma* dv = vma_containing(init, data);
  ASSERT_NE(dv, nullptr);
  EXPECT_EQ(dv->kind, model::VmaKind::anonymous_private);
  const model::Vma* hv = vma_containing(init, std::stoull(w.report("heap"), nullptr, 16));
  ASSERT_NE(hv, nullptr);
  EXPECT_EQ(hv->name, "[heap]");
  EXPECT_FALSE(hv->runs.empty());
  bool stack = false, vdso = false;
  for (const auto& v : init.vmas) {
    if (v.name == "[stack]") stack = !v.runs.empty();
    if (v.kind == model::VmaKind::vdso) {
      vdso = true;
      EXPECT_TRUE(v.runs.empty());
    }
  }
  EXPECT_TRUE(stack);
  EXPECT_TRUE(vdso);
  // 16 MiB written by the workload, plus its small heap, stack, data and TLS pages.
  uint64_t pages = pages_of(init);
  EXPECT_GE(pages, 16u * 256);
  EXPECT_LE(pages, 16u * 256 + 1024);
  EXPECT_EQ(raw_pages_bytes, pages * 4096);
  EXPECT_EQ(init.mm.exe_path, test::workload("memhog"));
  EXPECT_NE(init.mm.brk, 0u);
  EXPECT_GE(init.mm.brk, init.mm.start_brk);
  EXPECT_FALSE(init.mm.auxv.empty());

  // The shared anonymous region: one object, mapped by both, dumped once.
  uint64_t shared = std::stoull(w.report("shared"), nullptr, 16);
  const model::Vma* sv = vma_containing(init, shared);
  const model::Vma* csv = vma_containing(child, shared);
  ASSERT_NE(sv, nullptr);
  ASSERT_NE(csv, nullptr);
  EXPECT_EQ(sv->kind, model::VmaKind::anonymous_shared);
  EXPECT_EQ(sv->shared_id, csv->shared_id);
  ASSERT_EQ(cp.shared_memory.size(), 1u);
  EXPECT_EQ(cp.shared_memory[0].id, sv->shared_id);
  EXPECT_EQ(cp.shared_memory[0].size, 256u * 1024);

  // Fds: stdio external, the counter file by path; each fd points at a description.
  auto file_of = [&](const model::Fd& fd) -> const model::File* {
    for (const model::File& f : cp.files)
      if (f.id == fd.file) return &f;
    return nullptr;
  };
  ASSERT_GE(init.fds.size(), 4u);
  ASSERT_NE(file_of(init.fds[0]), nullptr);
  ASSERT_NE(file_of(init.fds[1]), nullptr);
  EXPECT_EQ(file_of(init.fds[0])->kind, model::FileKind::external);
  EXPECT_EQ(file_of(init.fds[0])->stdio, "stdin");
  EXPECT_EQ(file_of(init.fds[1])->stdio, "stdout");
  EXPECT_EQ(file_of(init.fds[1])->was.rfind("pipe:[", 0), 0u) << file_of(init.fds[1])->was;
  int counter_fd = std::stoi(w.report("counter_fd"));
  bool found = false;
  for (const auto& fd : init.fds) {
    if (fd.fd != counter_fd) continue;
    found = true;
    const model::File* f = file_of(fd);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->kind, model::FileKind::regular);
    EXPECT_EQ(f->path, w.counter_path());
    EXPECT_TRUE(fd.cloexec);
    EXPECT_EQ(f->flags & O_ACCMODE, O_RDWR);
    // The child inherited it across fork: one description, held by both.
    bool shared = false;
    for (const auto& cfd : child.fds) shared |= cfd.fd == counter_fd && cfd.file == fd.file;
    EXPECT_TRUE(shared) << "the child's inherited counter fd is not the parent's description";
  }
  EXPECT_TRUE(found);

  // The model survives the JSON round trip.
  EXPECT_EQ(model::to_json(model::checkpoint_from_json(model::to_json(cp))), model::to_json(cp));
}

TEST(CheckpointDump, SignalStateAndUmask) {
  CKPT_REQUIRE_ROOT();
  Workload w({"--signals"}, 1);
  SeizedContainer seized = seize_container(w.cgroup(), w.host_pid());
  image::ImageWriter writer(w.dir().file("image"));
  model::Checkpoint cp = dump_container(seized, writer);
  const model::Process& p = cp.processes.at(0);
  EXPECT_EQ(p.umask, 027u);
  const model::SigAction* usr1 = nullptr;
  const model::SigAction* pipe = nullptr;
  for (const auto& a : p.sigactions) {
    if (a.signo == SIGUSR1) usr1 = &a;
    if (a.signo == SIGPIPE) pipe = &a;
  }
  ASSERT_NE(usr1, nullptr);
  EXPECT_GT(usr1->handler, 1u);
  EXPECT_NE(usr1->flags & SA_RESTART, 0u);
  EXPECT_NE(usr1->flags & SA_ONSTACK, 0u);
  EXPECT_NE(usr1->restorer, 0u);  // glibc always sets SA_RESTORER
  EXPECT_EQ(usr1->mask, 1ULL << (SIGTERM - 1));
  ASSERT_NE(pipe, nullptr);
  EXPECT_EQ(pipe->handler, 1u);  // SIG_IGN
  for (const auto& a : p.sigactions) EXPECT_NE(a.handler, 0u) << "SIG_DFL recorded";

  const model::Thread& t = p.threads.at(0);
  EXPECT_NE(t.blocked_mask & (1ULL << (SIGUSR2 - 1)), 0u);
  ASSERT_EQ(p.shared_pending.size(), 1u);
  siginfo_t info;
  ASSERT_EQ(p.shared_pending[0].siginfo.size(), sizeof info);
  std::memcpy(&info, p.shared_pending[0].siginfo.data(), sizeof info);
  EXPECT_EQ(info.si_signo, SIGUSR2);
  EXPECT_EQ(info.si_code, SI_USER);
  EXPECT_EQ(t.altstack_size, 65536u);
  EXPECT_NE(t.altstack_sp, 0u);
  EXPECT_NE(t.clear_child_tid, 0u);  // glibc registers set_tid_address
  EXPECT_NE(t.rseq_addr, 0u);        // glibc 2.35+ registers rseq
  EXPECT_EQ(t.rseq_sig, 0x53053053u);
  EXPECT_EQ(p.dumpable, 1);
  EXPECT_EQ(p.rlimits.size(), static_cast<size_t>(RLIM_NLIMITS));
}

TEST(CheckpointDump, RefusesAnOpenSocketNamingTaskAndFd) {
  CKPT_REQUIRE_ROOT();
  Workload w({"--socket"}, 4);
  std::string image_dir = w.dir().file("image");
  std::string fd = w.report("socket_fd");
  try {
    SeizedContainer seized = seize_container(w.cgroup(), w.host_pid());
    image::ImageWriter writer(image_dir);
    dump_container(seized, writer);
    FAIL() << "the dump accepted an open unix socket";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("cannot checkpoint: pid 1 (memhog) fd " + fd + ": socket:["),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("unix sockets are not supported yet"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
  }
  struct stat st;
  EXPECT_NE(stat(image_dir.c_str(), &st), 0) << "an image was left behind";
  EXPECT_EQ(w.tracer_pid(), "0");
  EXPECT_TRUE(w.counter_advances());
}

TEST(CheckpointDump, RecordsAZombieChildWithItsWaitStatus) {
  CKPT_REQUIRE_ROOT();
  Workload w({"--zombie"}, 1);  // init forks a child that exits with 7, never reaped
  {
    SeizedContainer seized = seize_container(w.cgroup(), w.host_pid());
    image::ImageWriter writer(w.dir().file("image"));
    model::Checkpoint cp = dump_container(seized, writer);
    ASSERT_EQ(cp.processes.size(), 2u);
    const model::Process& z = cp.processes[1];
    EXPECT_TRUE(z.zombie);
    EXPECT_EQ(z.ppid, 1);
    EXPECT_EQ(z.exit_status, 7 << 8);
    EXPECT_TRUE(z.threads.empty());
    EXPECT_TRUE(z.vmas.empty());
    EXPECT_FALSE(cp.processes[0].zombie);
  }
  // Detached again: the container runs on, its zombie still unreaped.
  EXPECT_FALSE(w.cgroup().frozen());
  EXPECT_EQ(w.tracer_pid(), "0");
  EXPECT_TRUE(w.counter_advances());
  std::string children = test::slurp("/proc/" + std::to_string(w.host_pid()) + "/task/" +
                                     std::to_string(w.host_pid()) + "/children");
  EXPECT_FALSE(children.empty()) << "the zombie was reaped";
}

// Every stage, with each freezer: the v1 freezer is the one where a task cannot reach a ptrace
// stop while frozen, so the seize's ordering (interrupt, thaw, then wait) matters there.
class CheckpointDumpFailure
    : public ::testing::TestWithParam<std::tuple<Stage, cgroup::FreezerKind>> {};

TEST_P(CheckpointDumpFailure, LeavesTheContainerRunningAndNoImage) {
  CKPT_REQUIRE_ROOT();
  Workload w({"--threads", "1", "--fork", "--shared", "64"}, 8, std::get<1>(GetParam()));
  ASSERT_EQ(w.cgroup().freezer(), std::get<1>(GetParam()));
  std::string image_dir = w.dir().file("image");
  DumpOptions options;
  options.fail_at_stage = std::get<0>(GetParam());
  bool threw = false;
  try {
    SeizedContainer seized = seize_container(w.cgroup(), w.host_pid(), options);
    image::ImageWriter writer(image_dir);
    dump_container(seized, writer, options);
  } catch (const Error& e) {
    threw = true;
    EXPECT_NE(std::string(e.what()).find("injected failure at stage"), std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(threw);
  EXPECT_FALSE(w.cgroup().frozen());
  EXPECT_EQ(w.tracer_pid(), "0");
  EXPECT_TRUE(w.counter_advances()) << "the workload stopped after a failed dump";
  struct stat st;
  EXPECT_NE(stat(image_dir.c_str(), &st), 0) << "an image was left behind";
  // Nothing hidden either: the writer's temporary directory sits beside the image.
  for (const auto& name : entries(w.dir().path())) EXPECT_EQ(name, "counter");

  // And the container can still be checkpointed afterwards.
  SeizedContainer seized = seize_container(w.cgroup(), w.host_pid());
  image::ImageWriter writer(image_dir);
  model::Checkpoint cp = dump_container(seized, writer);
  EXPECT_EQ(cp.processes.size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(
    EveryStage, CheckpointDumpFailure,
    ::testing::Combine(::testing::Values(Stage::seize, Stage::classify, Stage::namespaces,
                                         Stage::filesystems,
                                         Stage::task_state, Stage::memory, Stage::assemble),
                       ::testing::Values(cgroup::FreezerKind::v2, cgroup::FreezerKind::v1)),
    [](const auto& info) {
      return std::string(stage_name(std::get<0>(info.param))) +
             (std::get<1>(info.param) == cgroup::FreezerKind::v1 ? "_v1" : "_v2");
    });

TEST(CheckpointDump, KillAfterDumpLeavesNoTask) {
  CKPT_REQUIRE_ROOT();
  Workload w({"--fork"}, 2);
  SeizedContainer seized = seize_container(w.cgroup(), w.host_pid());
  image::ImageWriter writer(w.dir().file("image"));
  model::Checkpoint cp = dump_container(seized, writer);
  EXPECT_EQ(cp.processes.size(), 2u);
  seized.kill();
  EXPECT_TRUE(w.cgroup().processes().empty());
  EXPECT_TRUE(test::wait_until([&] {
    std::string s = test::slurp("/proc/" + std::to_string(w.host_pid()) + "/status");
    return s.empty() || s.find("State:\tZ") != std::string::npos;
  }));
}

}  // namespace
}  // namespace ckpt::checkpoint
