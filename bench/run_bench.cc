// Container start and stop: crun-ckpt against Debian's runc, measured in the same run.
//
//   run_bench [RUNS] [WARMUP] [DIR]   (default 50 runs after 3 warm-up rounds, DIR /run; root)
//
// Both runtimes start the same programs from the same read-only rootfs (a temp dir with the
// host's /bin/true, /bin/sleep and the libraries ldd names) in new pid, mount, net, uts and ipc
// namespaces, each creating its own cgroup, each with a private --root state directory; all
// of it in a temp dir under DIR (default /run, where both keep their state by default).
// crun-ckpt is measured twice: with its default time namespace and without it.
// Per round, in rotating order so that noise from the shared machine hits all alike:
//   list         `RT --root R list`: loading the binary and reading an empty state dir
//   run          `RT run` of /bin/true, fork to waitpid (the workload has exited)
//   run -d       `RT run -d` of `sleep 1000`: until the command returns (workload running)
//   delete -f    `RT delete -f` of that container: until the command returns
// It prints median and p90 in ms and the ratio crun-ckpt/runc of the medians (goal <= 1.0).
// runc is installed with apt-get if it is missing.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "bench/run_bench_setup.h"

namespace {

using run_bench::Timed;

enum Op { kList, kRun, kRunDetached, kDelete, kOps };
const char* const kOpNames[kOps] = {"list", "run /bin/true", "run -d sleep", "delete -f"};

struct Variant {
  std::string label;
  bool runc = false;
  std::string binary, root;
  std::string run_target, detached_target;  // crun-ckpt: spec files; runc: bundle dirs
  std::vector<double> samples[kOps];
  int failures = 0;
  int failures_by_op[kOps] = {};
};

std::vector<std::string> argv_for(const Variant& v, Op op, const std::string& id) {
  std::vector<std::string> a = {v.binary, "--root", v.root};
  switch (op) {
    case kList:
      a.push_back("list");
      break;
    case kRun:
      if (v.runc)
        a.insert(a.end(), {"run", "--bundle", v.run_target, id});
      else
        a.insert(a.end(), {"run", "--name", id, v.run_target});
      break;
    case kRunDetached:
      if (v.runc)
        a.insert(a.end(), {"run", "-d", "--bundle", v.detached_target, id});
      else
        a.insert(a.end(), {"run", "-d", "--name", id, v.detached_target});
      break;
    default:
      a.insert(a.end(), {"delete", "-f", id});
      break;
  }
  return a;
}

// Detached containers still alive; the destructor deletes them whatever way main ends.
class LiveContainers {
 public:
  LiveContainers(const std::string& err_path) : err_path_(err_path) {}
  ~LiveContainers() {
    for (const auto& [v, id] : live_) {
      try {
        run_bench::run_timed(argv_for(*v, kDelete, id), err_path_);
      } catch (...) {
      }
    }
  }
  void add(const Variant* v, const std::string& id) { live_.insert({v, id}); }
  // Gone when its state directory is: a failed delete may have left it half removed.
  void remove_if_gone(const Variant* v, const std::string& id) {
    if (::access((v->root + "/" + id).c_str(), F_OK) != 0) live_.erase({v, id});
  }

 private:
  std::string err_path_;
  std::set<std::pair<const Variant*, std::string>> live_;
};

// The bench is a subreaper (runc's detached inits and crun-ckpt's monitors are orphaned to
// it, and this machine's PID 1 reaps slowly); collect whatever has exited between steps.
void reap_orphans() {
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

void ensure_runc() {
  if (::access("/usr/sbin/runc", X_OK) == 0) return;
  std::fprintf(stderr, "runc missing: apt-get install -y runc\n");
  if (std::system("apt-get install -y runc >/dev/null") != 0 || ::access("/usr/sbin/runc", X_OK))
    throw ckpt::Error("could not install runc", 0, "run `apt-get install -y runc` by hand");
}

class Bench {
 public:
  Bench(std::vector<Variant>& variants, std::string err_path)
      : variants_(variants), err_path_(std::move(err_path)), live_(err_path_) {}

  void round(int index, bool record) {
    size_t n = variants_.size();
    for (size_t k = 0; k < n; ++k) {
      Variant& v = variants_[(static_cast<size_t>(index) + k) % n];
      std::string id = "rb" + std::to_string(::getpid()) + "-" + std::to_string(index) + "-" +
                       std::to_string(&v - variants_.data());
      step(v, kList, id, record);
      step(v, kRun, id, record);
      live_.add(&v, id);
      if (step(v, kRunDetached, id, record)) {
        // A failed delete -f is retried, untimed and uncounted, so that the next rounds start
        // clean; what is left over after that goes when the temp dir does.
        if (!step(v, kDelete, id, record))
          run_bench::run_timed(argv_for(v, kDelete, id), err_path_);
      }
      live_.remove_if_gone(&v, id);
      reap_orphans();
    }
    ++rounds_;
  }

 private:
  bool step(Variant& v, Op op, const std::string& id, bool record) {
    Timed t = run_bench::run_timed(argv_for(v, op, id), err_path_);
    if (t.exit_code == 0) {
      if (record) v.samples[op].push_back(t.ms);
      return true;
    }
    ++v.failures;
    ++v.failures_by_op[op];
    if (v.failures <= 3)
      std::fprintf(stderr, "%s %s (%s) exited %d: %s", v.label.c_str(), kOpNames[op], id.c_str(),
                   t.exit_code, ckpt::read_file(err_path_).c_str());
    if (v.failures > 5 + rounds_) throw ckpt::Error(v.label + " keeps failing; stopping");
    return false;
  }

  std::vector<Variant>& variants_;
  std::string err_path_;
  LiveContainers live_;
  int rounds_ = 0;
};

double percentile(std::vector<double> xs, double p) {
  if (xs.empty()) return 0;
  std::sort(xs.begin(), xs.end());
  // Nearest rank: the smallest sample with at least p of them at or below it.
  size_t rank = static_cast<size_t>(p * static_cast<double>(xs.size()) + 0.999999);
  return xs[std::clamp<size_t>(rank, 1, xs.size()) - 1];
}

void print_table(const std::vector<Variant>& variants, int runs, int warmup) {
  const Variant& runc = variants.back();
  std::printf("\n%d runs each after %d warm-up rounds (warm page cache), times in ms\n", runs,
              warmup);
  std::printf("%-14s", "operation");
  for (const auto& v : variants) std::printf(" | %-22s", v.label.c_str());
  std::printf("\n%-14s", "");
  for (size_t i = 0; i < variants.size(); ++i)
    std::printf(" | %7s %7s %6s", "median", "p90", i + 1 < variants.size() ? "/runc" : "");
  std::printf("\n");
  for (int op = 0; op < kOps; ++op) {
    std::printf("%-14s", kOpNames[op]);
    double base = percentile(runc.samples[op], 0.5);
    for (const auto& v : variants) {
      double median = percentile(v.samples[op], 0.5);
      std::printf(" | %7.2f %7.2f", median, percentile(v.samples[op], 0.9));
      if (&v != &runc)
        std::printf(" %6.2f", base > 0 ? median / base : 0.0);
      else
        std::printf(" %6s", "");
    }
    std::printf("\n");
  }
  for (const auto& v : variants) {
    if (!v.failures) continue;
    std::printf("%s: failed commands (not in the numbers):", v.label.c_str());
    for (int op = 0; op < kOps; ++op)
      if (v.failures_by_op[op]) std::printf(" %s x%d", kOpNames[op], v.failures_by_op[op]);
    std::printf("\n");
  }
}

int bench_main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 50;
  int warmup = argc > 2 ? std::atoi(argv[2]) : 3;
  std::string parent = argc > 3 ? argv[3] : "/run";
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (runs <= 0 || warmup < 0)
    throw ckpt::Error("usage: run_bench [RUNS] [WARMUP] [DIR]", EINVAL, "RUNS > 0, WARMUP >= 0");
  if (::geteuid() != 0) throw ckpt::Error("run_bench needs root", EPERM, "run it with sudo");
  ensure_runc();
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) throw ckpt::sys_error("PR_SET_CHILD_SUBREAPER");

  std::string tmpl = parent + "/run_bench.XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw ckpt::sys_error("mkdtemp " + tmpl);
  std::string dir = tmpl;
  struct DirGuard {
    std::string path;
    ~DirGuard() {
      try {
        ckpt::remove_tree(path);
      } catch (...) {
      }
    }
  } dir_guard{dir};

  std::string rootfs = dir + "/rootfs";
  run_bench::build_rootfs(rootfs);
  const std::vector<std::string> true_args = {"/bin/true"}, sleep_args = {"/bin/sleep", "1000"};
  std::vector<Variant> variants(3);
  for (int t = 0; t < 2; ++t) {
    Variant& v = variants[t];
    bool time_ns = t == 0;
    v.label = time_ns ? "crun-ckpt (+time ns)" : "crun-ckpt (no time ns)";
    v.binary = CKPT_BINARY;
    v.root = dir + "/crun-root" + std::to_string(t);
    v.run_target = dir + "/true" + std::to_string(t) + ".yaml";
    v.detached_target = dir + "/sleep" + std::to_string(t) + ".yaml";
    run_bench::write_crun_spec(v.run_target, rootfs, true_args, time_ns);
    run_bench::write_crun_spec(v.detached_target, rootfs, sleep_args, time_ns);
  }
  Variant& runc = variants[2];
  runc.label =
      "runc " + ckpt::split(run_bench::capture("/usr/sbin/runc --version"), '\n')[0].substr(13);
  runc.runc = true;
  runc.binary = "/usr/sbin/runc";
  runc.root = dir + "/runc-root";
  runc.run_target = dir + "/bundle-true";
  runc.detached_target = dir + "/bundle-sleep";
  run_bench::write_runc_bundle(runc.binary, runc.run_target, rootfs, true_args);
  run_bench::write_runc_bundle(runc.binary, runc.detached_target, rootfs, sleep_args);
  for (const auto& v : variants) ckpt::make_dirs(v.root, 0700);

  std::printf("crun-ckpt: %s\nrootfs: %s (read-only), namespaces pid mount net uts ipc\n",
              CKPT_BINARY, rootfs.c_str());
  {
    Bench bench(variants, dir + "/stderr");
    for (int i = 0; i < warmup; ++i) bench.round(i, false);
    for (int i = 0; i < runs; ++i) bench.round(warmup + i, true);
  }
  reap_orphans();
  print_table(variants, runs, warmup);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return bench_main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "run_bench: %s\n", e.what());
    return 1;
  }
}
