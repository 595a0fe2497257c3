// Fixtures of run_bench: the shared rootfs, runc's bundle, crun-ckpt's specs, and timed
// fork/exec. Header-only because bench/CMakeLists.txt turns every *_bench.cc into its own
// executable and builds no other source of this folder.
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/file_util.h"

namespace run_bench {

namespace fs = std::filesystem;

inline double now_ms() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

struct Timed {
  int exit_code = -1;  // 128+signal when killed
  double ms = 0;
};

// fork/exec ARGV with stdin and stdout on /dev/null and stderr into ERR_PATH; waits for it.
// The clock spans fork to waitpid, as a shell would see it.
inline Timed run_timed(const std::vector<std::string>& argv, const std::string& err_path) {
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  ckpt::UniqueFd null = ckpt::open_file("/dev/null", O_RDWR | O_CLOEXEC);
  ckpt::UniqueFd err = ckpt::open_file(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  double start = now_ms();
  pid_t pid = ::fork();
  if (pid < 0) throw ckpt::sys_error("fork " + argv[0]);
  if (pid == 0) {
    ::dup2(null.get(), 0);
    ::dup2(null.get(), 1);
    ::dup2(err.get(), 2);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw ckpt::sys_error("waitpid " + std::to_string(pid));
  }
  Timed t;
  t.ms = now_ms() - start;
  t.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return t;
}

// Output of a short helper command (ldd, runc spec); throws if it fails.
inline std::string capture(const std::string& command) {
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) throw ckpt::sys_error("popen " + command);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  if (status != 0) throw ckpt::Error("'" + command + "' failed", 0, "is it installed?");
  return out;
}

// Copies PATH (symlinks followed) to the same path under ROOT.
inline void copy_into(const std::string& root, const std::string& path) {
  fs::path target = fs::path(root) / fs::path(path).relative_path();
  fs::create_directories(target.parent_path());
  fs::copy_file(fs::canonical(path), target, fs::copy_options::overwrite_existing);
}

// A minimal rootfs both runtimes can start: the host's dynamic /bin/true and /bin/sleep, what
// ldd says they load, and empty mount points. Identical bytes for both runtimes.
inline void build_rootfs(const std::string& root) {
  const std::vector<std::string> programs = {"/bin/true", "/bin/sleep"};
  for (const auto& prog : programs) {
    copy_into(root, prog);
    for (const auto& line : ckpt::split(capture("ldd " + prog), '\n')) {
      // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux... (0x...)"
      std::string_view l = ckpt::trim(line);
      size_t arrow = l.find("=> ");
      std::string_view rest = arrow == std::string_view::npos ? l : l.substr(arrow + 3);
      std::string lib(rest.substr(0, rest.find(' ')));
      if (!lib.empty() && lib[0] == '/') copy_into(root, lib);
    }
  }
  for (const char* dir : {"proc", "dev", "sys", "tmp", "etc"})
    fs::create_directories(fs::path(root) / dir);
}

// runc's own default (`runc spec`) with what the comparison needs changed: our rootfs,
// read-only, no terminal, ARGS; and the namespaces crun-ckpt makes (pid, mount, net, uts, ipc).
inline void write_runc_bundle(const std::string& runc, const std::string& bundle,
                              const std::string& rootfs, const std::vector<std::string>& args) {
  ckpt::make_dirs(bundle);
  capture(runc + " spec --bundle " + bundle);
  std::string path = bundle + "/config.json";
  nlohmann::json config = nlohmann::json::parse(ckpt::read_file(path));
  config["root"]["path"] = rootfs;
  config["root"]["readonly"] = true;
  config["process"]["terminal"] = false;
  config["process"]["args"] = args;
  config["linux"]["namespaces"] = nlohmann::json::array({{{"type", "pid"}},
                                                         {{"type", "network"}},
                                                         {{"type", "ipc"}},
                                                         {{"type", "uts"}},
                                                         {{"type", "mount"}}});
  ckpt::write_file_atomic(path, config.dump(2));
}

inline void write_crun_spec(const std::string& path, const std::string& rootfs,
                            const std::vector<std::string>& args, bool time_ns) {
  std::string yaml = "name: bench\nprocess:\n  args: [";
  for (size_t i = 0; i < args.size(); ++i) yaml += (i ? ", \"" : "\"") + args[i] + "\"";
  yaml += "]\nrootfs: {path: " + rootfs + ", readonly: true}\n";
  yaml += std::string("namespaces: [pid, mount, net, uts, ipc") + (time_ns ? ", time]\n" : "]\n");
  ckpt::write_file_atomic(path, yaml);
}

}  // namespace run_bench
