#include "runtime/checkpoint/proc_state.h"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "common/error.h"
#include "common/file_util.h"
#include "runtime/checkpoint/vma_classify.h"

namespace ckpt::checkpoint {

namespace {

std::string proc(pid_t pid, const char* what) {
  return "/proc/" + std::to_string(pid) + "/" + what;
}

std::string read_link(const std::string& path) {
  char buf[4096];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf);
  if (n < 0) throw sys_error("readlink " + path);
  return std::string(buf, static_cast<size_t>(n));
}

std::vector<uint64_t> numbers(const std::string& value, int base) {
  std::vector<uint64_t> out;
  std::istringstream in(value);
  std::string tok;
  while (in >> tok) out.push_back(std::stoull(tok, nullptr, base));
  return out;
}

std::string inside(const std::string& host_path, const std::string& root, const char* what) {
  std::string p = container_path(host_path, root);
  if (p.empty() || host_path.ends_with(" (deleted)")) {
    throw Error(std::string(what) + " " + host_path + " is not reachable inside the container");
  }
  return p;
}

}  // namespace

StatFields parse_stat(const std::string& text) {
  // comm (field 2) may contain spaces and parentheses: everything after the last ')' is fields 3+.
  size_t close = text.rfind(')');
  if (close == std::string::npos) throw Error("stat: no ')' after comm");
  std::istringstream in(text.substr(close + 1));
  std::vector<std::string> f;  // f[0] is field 3
  std::string tok;
  while (in >> tok) f.push_back(tok);
  if (f.size() < 50) throw Error("stat: " + std::to_string(f.size() + 2) + " fields, need 52");
  auto u = [&](int field) { return std::stoull(f.at(field - 3)); };
  StatFields s;
  s.state = f[0].empty() ? '?' : f[0][0];
  s.ppid = static_cast<pid_t>(u(4));
  s.pgrp = static_cast<pid_t>(u(5));
  s.session = static_cast<pid_t>(u(6));
  s.start_code = u(26);
  s.end_code = u(27);
  s.start_stack = u(28);
  s.start_data = u(45);
  s.end_data = u(46);
  s.start_brk = u(47);
  s.arg_start = u(48);
  s.arg_end = u(49);
  s.env_start = u(50);
  s.env_end = u(51);
  s.exit_code = static_cast<int>(u(52));
  return s;
}

StatusFields parse_status_fields(const std::string& text) {
  StatusFields s;
  for_each_proc_field(text, [&s](const std::string& key, const std::string& value) {
    auto ids = [&](uint32_t(&out)[4]) {
      auto v = numbers(value, 10);
      if (v.size() != 4)
        throw Error("status: " + key + " has " + std::to_string(v.size()) + " ids, expected 4");
      for (int i = 0; i < 4; ++i) out[i] = static_cast<uint32_t>(v[i]);
    };
    if (key == "Uid")
      ids(s.uid);
    else if (key == "Gid")
      ids(s.gid);
    else if (key == "Groups") {
      for (uint64_t g : numbers(value, 10)) s.groups.push_back(static_cast<uint32_t>(g));
    } else if (key == "CapInh")
      s.cap_inh = std::stoull(value, nullptr, 16);
    else if (key == "CapPrm")
      s.cap_prm = std::stoull(value, nullptr, 16);
    else if (key == "CapEff")
      s.cap_eff = std::stoull(value, nullptr, 16);
    else if (key == "CapBnd")
      s.cap_bnd = std::stoull(value, nullptr, 16);
    else if (key == "CapAmb")
      s.cap_amb = std::stoull(value, nullptr, 16);
    else if (key == "NoNewPrivs")
      s.no_new_privs = value == "1";
    else if (key == "Seccomp")
      s.seccomp = std::stoi(value);
    else if (key == "SigIgn")
      s.sig_ignored = std::stoull(value, nullptr, 16);
    else if (key == "SigCgt")
      s.sig_caught = std::stoull(value, nullptr, 16);
    else if (key == "Umask") {
      s.umask = static_cast<uint32_t>(std::stoul(value, nullptr, 8));
      s.has_umask = true;
    }
  });
  return s;
}

std::vector<uint64_t> parse_auxv(const std::string& bytes) {
  if (bytes.size() % 16 != 0)
    throw Error("auxv: size " + std::to_string(bytes.size()) + " is not a multiple of 16");
  std::vector<uint64_t> out;
  for (size_t i = 0; i + 16 <= bytes.size(); i += 16) {
    uint64_t pair[2];
    std::memcpy(pair, bytes.data() + i, sizeof pair);
    out.push_back(pair[0]);
    out.push_back(pair[1]);
    if (pair[0] == 0) break;  // AT_NULL
  }
  return out;
}

uint64_t parse_personality(const std::string& text) {
  std::string t(trim(text));
  if (t.empty()) throw Error("personality: empty");
  return std::stoull(t, nullptr, 16);
}

std::string read_root(pid_t host_pid) {
  return read_link(proc(host_pid, "root"));
}

StatusFields collect_proc_state(pid_t host_pid, const std::string& root, model::Process& p) {
  StatusFields st = parse_status_fields(read_file(proc(host_pid, "status")));
  // Seccomp filters (mode 2) are dumped per thread (seccomp_dump.cc); strict mode is not.
  if (st.seccomp == 1) {
    throw Error("the process is in seccomp strict mode, which cannot be checkpointed", 0,
                "checkpoint before the program enters strict mode, or use a seccomp filter");
  }
  // POSIX timers are collected with the injected queries (timers_dump.h).
  std::copy(std::begin(st.uid), std::end(st.uid), p.uid);
  std::copy(std::begin(st.gid), std::end(st.gid), p.gid);
  p.groups = st.groups;
  p.cap_inheritable = st.cap_inh;
  p.cap_permitted = st.cap_prm;
  p.cap_effective = st.cap_eff;
  p.cap_bounding = st.cap_bnd;
  p.cap_ambient = st.cap_amb;
  p.no_new_privs = st.no_new_privs;
  if (st.has_umask) p.umask = st.umask;

  StatFields sf = parse_stat(read_file(proc(host_pid, "stat")));
  p.mm.start_code = sf.start_code;
  p.mm.end_code = sf.end_code;
  p.mm.start_stack = sf.start_stack;
  p.mm.start_data = sf.start_data;
  p.mm.end_data = sf.end_data;
  p.mm.start_brk = sf.start_brk;
  p.mm.arg_start = sf.arg_start;
  p.mm.arg_end = sf.arg_end;
  p.mm.env_start = sf.env_start;
  p.mm.env_end = sf.env_end;
  p.mm.auxv = parse_auxv(read_file(proc(host_pid, "auxv")));
  p.mm.exe_path = inside(read_link(proc(host_pid, "exe")), root, "executable");

  p.cwd = inside(read_link(proc(host_pid, "cwd")), root, "working directory");
  p.root = "/";  // the container's root is its "/" by definition; chroots inside are refused
  if (read_root(host_pid) != root) {
    throw Error(
        "root directory differs from the container's (chroot inside the container is "
        "not supported yet)");
  }
  p.personality = parse_personality(read_file(proc(host_pid, "personality")));

  p.rlimits.clear();
  for (int r = 0; r < RLIM_NLIMITS; ++r) {
    struct rlimit lim {};
    if (prlimit(host_pid, static_cast<__rlimit_resource>(r), nullptr, &lim) != 0)
      throw sys_error("prlimit resource " + std::to_string(r));
    p.rlimits.push_back(model::Rlimit{r, lim.rlim_cur, lim.rlim_max});
  }

  int policy = sched_getscheduler(host_pid);
  if (policy < 0) throw sys_error("sched_getscheduler");
  // SCHED_RESET_ON_FORK is reported ORed into the policy; keep it, the restorer passes it back.
  p.sched_policy = policy;
  struct sched_param param {};
  if (sched_getparam(host_pid, &param) != 0) throw sys_error("sched_getparam");
  p.sched_priority = param.sched_priority;
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(host_pid));
  if (nice == -1 && errno != 0) throw sys_error("getpriority");
  p.nice = nice;
  return st;
}

}  // namespace ckpt::checkpoint
