// Checkpoint and restore of a container holding 1 GiB (or 4 GiB) of touched memory, beside
// references measured in the same run on the same bytes.
//
//   ckpt_bench [--sizes 1,4] [--kinds random,compressible] [--compress none,zstd] [--cold]
//              [--cold-seconds 10] [--dir /var/tmp] [--binary CRUN_CKPT]    (root)
//   ckpt_bench --workload KIND DIR MIB SEED       (internal: the container's process)
//
// Per row (size x kind x compression x warm/cold), each timed step after its own warm or cold
// preparation (ckpt_bench_refs.h):
//   dd       (mean of one run before the container starts and one after it is deleted)
//            the same bytes written in 4 MiB blocks + fsync beside the image
//   memcpy   (likewise) the same bytes copied into freshly mmap'ed memory, first touch included
//   dump     wall time of `crun-ckpt checkpoint` (frozen time as crun-ckpt prints it)
//   restore  wall time of `crun-ckpt restore -d` until it returns (the container runs)
// After the restore the workload recomputes its digest on SIGUSR1: a row whose memory came
// back wrong is marked BAD. Goals (issue): dump <= 1.2x dd, restore <= 1.0x memcpy,
// zstd >= 4x on compressible memory at >= half the uncompressed throughput.
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/ckpt_bench_fill.h"
#include "bench/ckpt_bench_refs.h"
#include "common/error.h"
#include "common/file_util.h"

namespace {

namespace fs = std::filesystem;
using namespace ckpt_bench;

struct Options {
  std::vector<size_t> sizes_gib = {1};
  std::vector<Kind> kinds = {Kind::kRandom, Kind::kCompressible};
  std::vector<std::string> compressions = {"none", "zstd"};
  bool cold = false;
  int cold_seconds = 10;
  std::string parent = "/var/tmp";
  // Another crun-ckpt to measure (say, a build from before a change) against the same refs.
  std::string binary = CKPT_BINARY;
};

struct Row {
  size_t gib = 0;
  Kind kind = Kind::kRandom;
  std::string compression;
  bool cold = false;
  double frozen = 0, dump = 0, dd = 0, restore = 0, memcpy = 0;
  double image_mib = 0;
  std::string verdict = "ok";
};

struct Result {
  int exit_code = -1;
  double s = 0;
  std::string out;
};

// fork/exec ARGV, stdout and stderr into OUT_PATH; the clock spans fork to waitpid.
Result run(const std::vector<std::string>& argv, const std::string& out_path) {
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  ckpt::UniqueFd null = ckpt::open_file("/dev/null", O_RDONLY | O_CLOEXEC);
  ckpt::UniqueFd out = ckpt::open_file(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  double start = now_s();
  pid_t pid = ::fork();
  if (pid < 0) throw ckpt::sys_error("fork " + argv[0]);
  if (pid == 0) {
    ::dup2(null.get(), 0);
    ::dup2(out.get(), 1);
    ::dup2(out.get(), 2);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw ckpt::sys_error("waitpid " + std::to_string(pid));
  Result r;
  r.s = now_s() - start;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = ckpt::read_file(out_path);
  // The bench is a subreaper: crun-ckpt's detached monitors land here; collect the dead.
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
  return r;
}

Result run_ok(const std::vector<std::string>& argv, const std::string& out_path) {
  Result r = run(argv, out_path);
  if (r.exit_code != 0)
    throw ckpt::Error(argv[3] + " exited " + std::to_string(r.exit_code) + ": " + r.out);
  return r;
}

// Removes a path tree on scope exit, whatever way the scope ends.
struct TreeGuard {
  std::string path;
  ~TreeGuard() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// A container that may exist: `delete -f` on scope exit (harmless if it is already gone).
struct ContainerGuard {
  std::string binary, root, id, out_path;
  ~ContainerGuard() {
    try {
      run({binary, "--root", root, "delete", "-f", id}, out_path);
    } catch (...) {
    }
  }
};

bool wait_for_file(const std::string& path, double timeout_s) {
  double end = now_s() + timeout_s;
  while (now_s() < end) {
    if (::access(path.c_str(), F_OK) == 0) return true;
    ::usleep(20'000);
  }
  return false;
}

double tree_bytes(const std::string& path) {
  double total = 0;
  for (const auto& e : fs::recursive_directory_iterator(path))
    if (e.is_regular_file()) total += static_cast<double>(e.file_size());
  return total;
}

// "checkpointed ID to IMG: N processes, SIZE, frozen F s, total T s"
double parse_frozen(const std::string& out) {
  size_t at = out.find("frozen ");
  return at == std::string::npos ? -1 : std::atof(out.c_str() + at + 7);
}

class Bench {
 public:
  Bench(const Options& opt, std::string dir) : opt_(opt), dir_(std::move(dir)) {}

  Row measure(size_t gib, Kind kind, const std::string& compression, bool cold) {
    Row row{gib, kind, compression, cold};
    size_t len = gib << 30;
    uint64_t seed = 0x9e3779b97f4a7c15ULL ^ (++serial_ * 0x100000001b3ULL);
    std::string tag = std::to_string(::getpid()) + "-" + std::to_string(serial_);
    std::string out = dir_ + "/out", image = dir_ + "/img-" + tag, data = dir_ + "/data-" + tag;
    TreeGuard image_guard{image}, data_guard{data};
    // The references bracket the container's life (before it starts, after it is gone) and
    // are averaged: the disk of this shared VM drifts by 2x within a minute.
    Mapping src(len);
    fill(kind, src.data(), len, seed);
    references(src, cold, dir_ + "/dd-" + tag, row);

    ckpt::make_dirs(data, 0755);
    std::string id = "ckb" + tag, spec = dir_ + "/" + id + ".yaml";
    ckpt::write_file_atomic(
        spec, "name: " + id + "\nprocess:\n  args: [\"" + self_ + "\", " + "--workload, " +
                  (kind == Kind::kRandom ? "random" : "compressible") + ", /mnt, \"" +
                  std::to_string(gib << 10) + "\", \"" + std::to_string(seed) +
                  "\"]\nmounts:\n  - {type: bind, source: " + data + ", destination: /mnt}\n");
    ContainerGuard container{opt_.binary, root_, id, out};
    run_ok({opt_.binary, "--root", root_, "run", "-d", spec}, out);
    if (!wait_for_file(data + "/ready", 30.0 * static_cast<double>(gib)))
      throw ckpt::Error("workload of " + id + " never got ready", ETIMEDOUT,
                        "see " + root_ + "/" + id);

    prepare(cold, len, opt_.cold_seconds);
    Result dump = run_ok({opt_.binary, "--root", root_, "checkpoint", "--image-path", image,
                          "--compress", compression, id},
                         out);
    row.dump = dump.s;
    row.frozen = parse_frozen(dump.out);
    row.image_mib = tree_bytes(image) / (1 << 20);
    // The checkpoint killed the container; make sure its state is gone before the restore.
    run({opt_.binary, "--root", root_, "delete", "-f", id}, out);

    prepare(cold, len, opt_.cold_seconds);
    row.restore =
        run_ok({opt_.binary, "--root", root_, "restore", "-d", "--image-path", image}, out).s;
    run_ok({opt_.binary, "--root", root_, "kill", "-a", id, "USR1"}, out);
    if (!wait_for_file(data + "/report", 10.0 * static_cast<double>(gib)))
      row.verdict = "NO REPORT";
    else if (ckpt::read_file(data + "/report") != "ok\n")
      row.verdict = "BAD MEMORY";
    run({opt_.binary, "--root", root_, "delete", "-f", id}, out);
    references(src, cold, dir_ + "/dd-" + tag, row);
    row.dd /= 2;
    row.memcpy /= 2;
    return row;
  }

  void set_paths(std::string self, std::string root) {
    self_ = std::move(self);
    root_ = std::move(root);
  }

 private:
  void references(const Mapping& src, bool cold, const std::string& dd_path, Row& row) {
    prepare(cold, src.size(), opt_.cold_seconds);
    row.dd += dd_seconds(src.data(), src.size(), dd_path);
    prepare(cold, src.size(), opt_.cold_seconds);
    row.memcpy += memcpy_seconds(src.data(), src.size());
  }

  const Options& opt_;
  std::string dir_, self_, root_;
  uint64_t serial_ = 0;
};

void print_header() {
  std::printf("%4s %-8s %-5s %-4s | %7s %7s %7s %7s | %7s %7s %7s | %8s %6s | %s\n", "GiB", "kind",
              "comp", "temp", "frozen", "dump", "dd", "dump/dd", "restore", "memcpy", "rst/cpy",
              "imageMiB", "ratio", "check");
}

void print_row(const Row& r) {
  double raw_mib = static_cast<double>(r.gib << 10);
  std::printf(
      "%4zu %-8s %-5s %-4s | %7.3f %7.3f %7.3f %7.2f | %7.3f %7.3f %7.2f | %8.1f %6.2f | %s\n",
      r.gib, kind_name(r.kind), r.compression.c_str(), r.cold ? "cold" : "warm", r.frozen, r.dump,
      r.dd, r.dump / r.dd, r.restore, r.memcpy, r.restore / r.memcpy, r.image_mib,
      raw_mib / r.image_mib, r.verdict.c_str());
}

template <typename T, typename F>
std::vector<T> parse_list(const std::string& text, F each) {
  std::vector<T> out;
  for (const auto& item : ckpt::split(text, ','))
    out.push_back(each(std::string(ckpt::trim(item))));
  return out;
}

Options parse_options(int argc, char** argv) {
  Options o;
  const char* usage =
      "usage: ckpt_bench [--sizes 1,4] [--kinds random,compressible] [--compress none,zstd] "
      "[--cold] [--cold-seconds N] [--dir DIR] [--binary CRUN_CKPT]";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw ckpt::Error(a + " needs a value", EINVAL, usage);
      return argv[++i];
    };
    if (a == "--sizes")
      o.sizes_gib = parse_list<size_t>(value(), [&](const std::string& s) {
        size_t n = std::strtoul(s.c_str(), nullptr, 10);
        if (n == 0 || n > 64) throw ckpt::Error("bad size '" + s + "' in --sizes", EINVAL, usage);
        return n;
      });
    else if (a == "--kinds")
      o.kinds = parse_list<Kind>(value(), parse_kind);
    else if (a == "--compress")
      o.compressions = parse_list<std::string>(value(), [](const std::string& s) { return s; });
    else if (a == "--cold")
      o.cold = true;
    else if (a == "--cold-seconds")
      o.cold_seconds = std::atoi(value().c_str());
    else if (a == "--dir")
      o.parent = value();
    else if (a == "--binary")
      o.binary = value();
    else
      throw ckpt::Error("unknown argument '" + a + "'", EINVAL, usage);
  }
  return o;
}

int bench_main(int argc, char** argv) {
  if (argc == 6 && std::string(argv[1]) == "--workload")
    return workload_main(parse_kind(argv[2]), argv[3], std::strtoul(argv[4], nullptr, 10),
                         std::strtoull(argv[5], nullptr, 10));
  Options opt = parse_options(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (::geteuid() != 0) throw ckpt::Error("ckpt_bench needs root", EPERM, "run it with sudo");
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) throw ckpt::sys_error("PR_SET_CHILD_SUBREAPER");

  std::string tmpl = opt.parent + "/ckpt_bench.XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw ckpt::sys_error("mkdtemp " + tmpl);
  TreeGuard dir_guard{tmpl};
  Bench bench(opt, tmpl);
  bench.set_paths(fs::canonical("/proc/self/exe").string(), tmpl + "/root");
  ckpt::make_dirs(tmpl + "/root", 0700);

  std::printf("crun-ckpt: %s\nimages, dd files in %s (same file system); times in s\n",
              opt.binary.c_str(), tmpl.c_str());
  std::vector<bool> temps = {false};
  if (opt.cold) temps.push_back(true);
  std::vector<Row> rows;
  print_header();
  for (size_t gib : opt.sizes_gib)
    for (bool cold : temps)
      for (Kind kind : opt.kinds)
        for (const auto& comp : opt.compressions) {
          rows.push_back(bench.measure(gib, kind, comp, cold));
          print_row(rows.back());
        }
  // The zstd goal compares rows: same size, kind and temperature, with and without zstd.
  for (const Row& z : rows)
    for (const Row& n : rows)
      if (z.compression != "none" && n.compression == "none" && z.gib == n.gib &&
          z.kind == n.kind && z.cold == n.cold)
        std::printf("%zu GiB %s %s: %s shrinks %.2fx; dump throughput %s/none %.2f\n", z.gib,
                    kind_name(z.kind), z.cold ? "cold" : "warm", z.compression.c_str(),
                    static_cast<double>(z.gib << 10) / z.image_mib, z.compression.c_str(),
                    n.dump / z.dump);
  std::printf(
      "\nwarm: each step right after touching and freeing as much memory; cold: after %d s "
      "with it free.\ngoals: dump/dd <= 1.2, rst/cpy <= 1.0, zstd ratio >= 4 on compressible at "
      ">= half the uncompressed throughput.\n",
      opt.cold_seconds);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return bench_main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ckpt_bench: %s\n", e.what());
    return 1;
  }
}
