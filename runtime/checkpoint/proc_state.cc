#include "runtime/checkpoint/proc_state.h"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iterator>
#include <optional>
#include <string_view>

#include "common/error.h"
#include "common/file_util.h"
#include "common/parse_number.h"
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

// The rows of /proc/PID/limits, in the order and with the names and units of lnames[] in
// fs/proc/base.c (proc_pid_limits). Values are printed in the limit's own unit (the Units
// column only describes it), so nothing is converted; the unit is still checked so that a
// kernel that changed the table is noticed instead of misread.
struct LimitRow {
  int resource;
  std::string_view name;
  std::string_view unit;  // empty: the kernel prints none
};
constexpr LimitRow kLimitRows[] = {
    {RLIMIT_CPU, "Max cpu time", "seconds"},
    {RLIMIT_FSIZE, "Max file size", "bytes"},
    {RLIMIT_DATA, "Max data size", "bytes"},
    {RLIMIT_STACK, "Max stack size", "bytes"},
    {RLIMIT_CORE, "Max core file size", "bytes"},
    {RLIMIT_RSS, "Max resident set", "bytes"},
    {RLIMIT_NPROC, "Max processes", "processes"},
    {RLIMIT_NOFILE, "Max open files", "files"},
    {RLIMIT_MEMLOCK, "Max locked memory", "bytes"},
    {RLIMIT_AS, "Max address space", "bytes"},
    {RLIMIT_LOCKS, "Max file locks", "locks"},
    {RLIMIT_SIGPENDING, "Max pending signals", "signals"},
    {RLIMIT_MSGQUEUE, "Max msgqueue size", "bytes"},
    {RLIMIT_NICE, "Max nice priority", ""},
    {RLIMIT_RTPRIO, "Max realtime priority", ""},
    {RLIMIT_RTTIME, "Max realtime timeout", "us"},
};
static_assert(std::size(kLimitRows) == RLIM_NLIMITS);

// "unlimited" is how the kernel prints RLIM_INFINITY.
uint64_t limit_value(const std::string& text, const std::string& what) {
  if (text == "unlimited") return RLIM_INFINITY;
  return parse_number<uint64_t>(text, what);
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
  std::vector<std::string> f = split(std::string_view(text).substr(close + 1), ' ');
  if (!f.empty() && !f.back().empty() && f.back().back() == '\n') f.back().pop_back();
  // f[0] is field 3
  if (f.size() < 50) throw Error("stat: " + std::to_string(f.size() + 2) + " fields, need 52");
  auto field_name = [](int field) { return "stat field " + std::to_string(field); };
  auto u = [&](int field) { return parse_number<uint64_t>(f.at(field - 3), field_name(field)); };
  auto i = [&](int field) { return parse_number<int>(f.at(field - 3), field_name(field)); };
  StatFields s;
  s.state = f[0].empty() ? '?' : f[0][0];
  s.ppid = i(4);
  s.pgrp = i(5);
  s.session = i(6);
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
  s.exit_code = i(52);
  return s;
}

StatusFields parse_status_fields(const std::string& text) {
  StatusFields s;
  for_each_proc_field(text, [&s](const std::string& key, const std::string& value) {
    const std::string what = "status: " + key;
    auto ids = [&](uint32_t(&out)[4]) {
      auto v = parse_numbers<uint32_t>(value, what);
      if (v.size() != 4)
        throw Error(what + " has " + std::to_string(v.size()) + " ids, expected 4");
      std::copy(v.begin(), v.end(), out);
    };
    auto hex = [&] { return parse_number<uint64_t>(value, what, NumberBase::hex); };
    if (key == "Uid")
      ids(s.uid);
    else if (key == "Gid")
      ids(s.gid);
    else if (key == "Groups")
      s.groups = parse_numbers<uint32_t>(value, what);
    else if (key == "CapInh")
      s.cap_inh = hex();
    else if (key == "CapPrm")
      s.cap_prm = hex();
    else if (key == "CapEff")
      s.cap_eff = hex();
    else if (key == "CapBnd")
      s.cap_bnd = hex();
    else if (key == "CapAmb")
      s.cap_amb = hex();
    else if (key == "NoNewPrivs")
      s.no_new_privs = value == "1";
    else if (key == "Seccomp")
      s.seccomp = parse_number<int>(value, what);
    else if (key == "SigIgn")
      s.sig_ignored = hex();
    else if (key == "SigCgt")
      s.sig_caught = hex();
    else if (key == "Umask") {
      s.umask = parse_number<uint32_t>(value, what, 0, 0777, NumberBase::octal);
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
  return parse_number<uint64_t>(trim(text), "personality", NumberBase::hex);
}

std::vector<model::Rlimit> parse_limits(const std::string& text) {
  std::vector<std::optional<model::Rlimit>> found(RLIM_NLIMITS);
  std::vector<std::string> lines = split(text, '\n');
  if (lines.empty() || !lines[0].starts_with("Limit "))
    throw Error("limits: no header line (\"Limit  Soft Limit  Hard Limit  Units\")");
  for (size_t n = 1; n < lines.size(); ++n) {
    const std::string& line = lines[n];
    const LimitRow* row = nullptr;
    for (const LimitRow& r : kLimitRows) {
      if (line.starts_with(r.name) && line.size() > r.name.size() && line[r.name.size()] == ' ')
        row = &r;
    }
    // A limit newer than this build's RLIM_NLIMITS could not be set at restore either; the
    // table above is the uapi's, which the kernel only ever extends at the end.
    if (row == nullptr) continue;
    std::string name(row->name);
    std::vector<std::string> f = split(std::string_view(line).substr(row->name.size()), ' ');
    size_t want = row->unit.empty() ? 2 : 3;
    if (f.size() != want || (want == 3 && f[2] != row->unit)) {
      throw Error("limits: line \"" + line + "\" is not \"" + name + "  SOFT  HARD" +
                  (row->unit.empty() ? "" : "  " + std::string(row->unit)) + "\"");
    }
    if (found[row->resource]) throw Error("limits: \"" + name + "\" appears twice");
    found[row->resource] =
        model::Rlimit{row->resource, limit_value(f[0], "limits: " + name + " soft"),
                      limit_value(f[1], "limits: " + name + " hard")};
  }
  std::vector<model::Rlimit> out;
  for (const LimitRow& r : kLimitRows) {
    if (!found[r.resource]) throw Error("limits: no \"" + std::string(r.name) + "\" line");
  }
  for (const auto& lim : found) out.push_back(*lim);
  return out;
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

  // Not prlimit(2): on a task with other uids it needs CAP_SYS_RESOURCE even to read
  // (kernel/sys.c check_prlimit_permission), which root lacks on some hosts; /proc/PID/limits
  // is world-readable and shows the same values, read under the task's lock.
  std::string limits_path = proc(host_pid, "limits");
  std::string limits = read_file(limits_path);
  p.rlimits = with_context(limits_path, [&] { return parse_limits(limits); });

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
