// JSON form of the checkpoint model. Enums are written as their names so `image inspect` output
// reads well; binary strings (siginfo) are lowercase hex. Reading is strict about types (a
// wrong-typed or missing key is an error naming the key) so a tampered body is refused rather
// than silently defaulted; keys added later are optional so older images still read.
#include "runtime/model/model_json.h"

#include <array>
#include <string_view>

#include "common/error.h"

namespace ckpt::model {

using nlohmann::json;

namespace {

constexpr std::array<std::pair<VmaKind, const char*>, 7> kVmaKinds = {{
    {VmaKind::anonymous_private, "anonymous_private"},
    {VmaKind::anonymous_shared, "anonymous_shared"},
    {VmaKind::file_private, "file_private"},
    {VmaKind::file_shared, "file_shared"},
    {VmaKind::vdso, "vdso"},
    {VmaKind::vvar, "vvar"},
    {VmaKind::vsyscall, "vsyscall"},
}};

constexpr std::array<std::pair<FdKind, const char*>, 5> kFdKinds = {{
    {FdKind::regular, "regular"},
    {FdKind::directory, "directory"},
    {FdKind::tty, "tty"},
    {FdKind::pipe, "pipe"},
    {FdKind::unsupported, "unsupported"},
}};

template <typename E, size_t N>
const char* enum_name(const std::array<std::pair<E, const char*>, N>& table, E value) {
  for (const auto& [v, name] : table)
    if (v == value) return name;
  throw Error("model: enum value " + std::to_string(static_cast<int>(value)) + " has no name");
}

template <typename E, size_t N>
E enum_value(const std::array<std::pair<E, const char*>, N>& table, const json& j,
             const char* key) {
  std::string text = j.at(key).get<std::string>();
  for (const auto& [v, name] : table)
    if (text == name) return v;
  throw Error("checkpoint model: key '" + std::string(key) + "': unknown value '" + text + "'");
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string from_hex(const std::string& hex) {
  if (hex.size() % 2 != 0) throw Error("checkpoint model: odd-length hex string");
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) throw Error("checkpoint model: bad hex digit in '" + hex + "'");
    out[i] = static_cast<char>(hi << 4 | lo);
  }
  return out;
}

// Reads key into out if present (optional keys keep their default).
template <typename T>
void opt(const json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it != j.end()) out = it->template get<T>();
}

json pending_json(const std::vector<PendingSignal>& list) {
  json out = json::array();
  for (const auto& p : list) out.push_back(to_hex(p.siginfo));
  return out;
}

std::vector<PendingSignal> pending_from(const json& j) {
  std::vector<PendingSignal> out;
  for (const auto& item : j) out.push_back(PendingSignal{from_hex(item.get<std::string>())});
  return out;
}

json vma_json(const Vma& v) {
  json runs = json::array();
  for (const auto& r : v.runs) runs.push_back({r.start, r.npages});
  return {{"start", v.start},
          {"end", v.end},
          {"prot", v.prot},
          {"flags", v.flags},
          {"kind", enum_name(kVmaKinds, v.kind)},
          {"name", v.name},
          {"path", v.path},
          {"offset", v.offset},
          {"shared_id", v.shared_id},
          {"runs", runs}};
}

Vma vma_from(const json& j) {
  Vma v;
  v.start = j.at("start").get<uint64_t>();
  v.end = j.at("end").get<uint64_t>();
  v.prot = j.at("prot").get<int>();
  v.flags = j.at("flags").get<int>();
  v.kind = enum_value(kVmaKinds, j, "kind");
  opt(j, "name", v.name);
  opt(j, "path", v.path);
  opt(j, "offset", v.offset);
  opt(j, "shared_id", v.shared_id);
  for (const auto& r : j.at("runs")) {
    if (!r.is_array() || r.size() != 2)
      throw Error("checkpoint model: a page run must be [start, npages]");
    v.runs.push_back(PageRun{r[0].get<uint64_t>(), r[1].get<uint64_t>()});
  }
  return v;
}

json mm_json(const MmState& m) {
  return {{"start_code", m.start_code},   {"end_code", m.end_code},   {"start_data", m.start_data},
          {"end_data", m.end_data},       {"start_brk", m.start_brk}, {"brk", m.brk},
          {"start_stack", m.start_stack}, {"arg_start", m.arg_start}, {"arg_end", m.arg_end},
          {"env_start", m.env_start},     {"env_end", m.env_end},     {"auxv", m.auxv},
          {"exe_path", m.exe_path}};
}

MmState mm_from(const json& j) {
  MmState m;
  m.start_code = j.at("start_code").get<uint64_t>();
  m.end_code = j.at("end_code").get<uint64_t>();
  m.start_data = j.at("start_data").get<uint64_t>();
  m.end_data = j.at("end_data").get<uint64_t>();
  m.start_brk = j.at("start_brk").get<uint64_t>();
  m.brk = j.at("brk").get<uint64_t>();
  m.start_stack = j.at("start_stack").get<uint64_t>();
  m.arg_start = j.at("arg_start").get<uint64_t>();
  m.arg_end = j.at("arg_end").get<uint64_t>();
  m.env_start = j.at("env_start").get<uint64_t>();
  m.env_end = j.at("env_end").get<uint64_t>();
  m.auxv = j.at("auxv").get<std::vector<uint64_t>>();
  m.exe_path = j.at("exe_path").get<std::string>();
  return m;
}

json seccomp_json(const Thread& t) {
  json filters = json::array();
  for (size_t i = 0; i < t.seccomp_filters.size(); ++i) {
    uint64_t flags = i < t.seccomp_filter_flags.size() ? t.seccomp_filter_flags[i] : 0;
    filters.push_back({{"program", to_hex(t.seccomp_filters[i])}, {"flags", flags}});
  }
  return {{"mode", t.seccomp_mode}, {"filters", filters}};
}

void seccomp_from(const json& j, Thread& t) {
  auto it = j.find("seccomp");
  if (it == j.end()) return;
  t.seccomp_mode = it->at("mode").get<int>();
  for (const auto& f : it->at("filters")) {
    t.seccomp_filters.push_back(from_hex(f.at("program").get<std::string>()));
    t.seccomp_filter_flags.push_back(f.at("flags").get<uint64_t>());
  }
}

json thread_json(const Thread& t) {
  return {
      {"tid", t.tid},
      {"regs_file", t.regs_file},
      {"xstate_file", t.xstate_file},
      {"fs_base", t.fs_base},
      {"gs_base", t.gs_base},
      {"blocked_mask", t.blocked_mask},
      {"pending", pending_json(t.pending)},
      {"altstack", {{"sp", t.altstack_sp}, {"size", t.altstack_size}, {"flags", t.altstack_flags}}},
      {"rseq", {{"addr", t.rseq_addr}, {"len", t.rseq_len}, {"sig", t.rseq_sig}}},
      {"clear_child_tid", t.clear_child_tid},
      {"comm", t.comm},
      {"seccomp", seccomp_json(t)}};
}

Thread thread_from(const json& j) {
  Thread t;
  t.tid = j.at("tid").get<pid_t>();
  t.regs_file = j.at("regs_file").get<std::string>();
  t.xstate_file = j.at("xstate_file").get<std::string>();
  t.fs_base = j.at("fs_base").get<uint64_t>();
  t.gs_base = j.at("gs_base").get<uint64_t>();
  t.blocked_mask = j.at("blocked_mask").get<uint64_t>();
  t.pending = pending_from(j.at("pending"));
  const json& alt = j.at("altstack");
  t.altstack_sp = alt.at("sp").get<uint64_t>();
  t.altstack_size = alt.at("size").get<uint64_t>();
  t.altstack_flags = alt.at("flags").get<int>();
  const json& rseq = j.at("rseq");
  t.rseq_addr = rseq.at("addr").get<uint64_t>();
  t.rseq_len = rseq.at("len").get<uint32_t>();
  t.rseq_sig = rseq.at("sig").get<uint32_t>();
  opt(j, "clear_child_tid", t.clear_child_tid);
  opt(j, "comm", t.comm);
  seccomp_from(j, t);
  return t;
}

json fd_json(const Fd& f) {
  return {{"fd", f.fd},
          {"kind", enum_name(kFdKinds, f.kind)},
          {"path", f.path},
          {"flags", f.flags},
          {"cloexec", f.cloexec},
          {"pos", f.pos},
          {"external", f.external}};
}

Fd fd_from(const json& j) {
  Fd f;
  f.fd = j.at("fd").get<int>();
  f.kind = enum_value(kFdKinds, j, "kind");
  f.path = j.at("path").get<std::string>();
  f.flags = j.at("flags").get<int>();
  f.cloexec = j.at("cloexec").get<bool>();
  f.pos = j.at("pos").get<uint64_t>();
  opt(j, "external", f.external);
  return f;
}

json itimers_json(const std::vector<ITimer>& list) {
  json out = json::array();
  for (const auto& t : list)
    out.push_back({{"which", t.which}, {"value_ns", t.value_ns}, {"interval_ns", t.interval_ns}});
  return out;
}

std::vector<ITimer> itimers_from(const json& j) {
  std::vector<ITimer> out;
  for (const auto& t : j)
    out.push_back(ITimer{t.at("which").get<int>(), t.at("value_ns").get<uint64_t>(),
                         t.at("interval_ns").get<uint64_t>()});
  return out;
}

json posix_timers_json(const std::vector<PosixTimer>& list) {
  json out = json::array();
  for (const auto& t : list)
    out.push_back({{"id", t.id},
                   {"clock_id", t.clock_id},
                   {"notify", t.notify},
                   {"signo", t.signo},
                   {"notify_tid", t.notify_tid},
                   {"sigev_value", t.sigev_value},
                   {"value_ns", t.value_ns},
                   {"interval_ns", t.interval_ns},
                   {"overrun", t.overrun}});
  return out;
}

std::vector<PosixTimer> posix_timers_from(const json& j) {
  std::vector<PosixTimer> out;
  for (const auto& t : j) {
    PosixTimer p;
    p.id = t.at("id").get<int>();
    p.clock_id = t.at("clock_id").get<int>();
    p.notify = t.at("notify").get<int>();
    p.signo = t.at("signo").get<int>();
    p.notify_tid = t.at("notify_tid").get<pid_t>();
    p.sigev_value = t.at("sigev_value").get<uint64_t>();
    p.value_ns = t.at("value_ns").get<uint64_t>();
    p.interval_ns = t.at("interval_ns").get<uint64_t>();
    p.overrun = t.at("overrun").get<int>();
    out.push_back(p);
  }
  return out;
}

json process_json(const Process& p) {
  json threads = json::array(), vmas = json::array(), sigactions = json::array(),
       fds = json::array(), rlimits = json::array();
  for (const auto& t : p.threads) threads.push_back(thread_json(t));
  for (const auto& v : p.vmas) vmas.push_back(vma_json(v));
  for (const auto& s : p.sigactions)
    sigactions.push_back({{"signo", s.signo},
                          {"handler", s.handler},
                          {"flags", s.flags},
                          {"restorer", s.restorer},
                          {"mask", s.mask}});
  for (const auto& f : p.fds) fds.push_back(fd_json(f));
  for (const auto& r : p.rlimits)
    rlimits.push_back({{"resource", r.resource}, {"soft", r.soft}, {"hard", r.hard}});
  return {
      {"pid", p.pid},
      {"ppid", p.ppid},
      {"pgid", p.pgid},
      {"sid", p.sid},
      {"comm", p.comm},
      {"zombie", p.zombie},
      {"exit_status", p.exit_status},
      {"threads", threads},
      {"vmas", vmas},
      {"pages_stream", p.pages_stream},
      {"mm", mm_json(p.mm)},
      {"sigactions", sigactions},
      {"shared_pending", pending_json(p.shared_pending)},
      {"fds", fds},
      {"rlimits", rlimits},
      {"umask", p.umask},
      {"cwd", p.cwd},
      {"root", p.root},
      {"personality", p.personality},
      {"sched", {{"policy", p.sched_policy}, {"priority", p.sched_priority}, {"nice", p.nice}}},
      {"uid", {p.uid[0], p.uid[1], p.uid[2], p.uid[3]}},
      {"gid", {p.gid[0], p.gid[1], p.gid[2], p.gid[3]}},
      {"groups", p.groups},
      {"unmapped_groups", p.unmapped_groups},
      {"caps",
       {{"inheritable", p.cap_inheritable},
        {"permitted", p.cap_permitted},
        {"effective", p.cap_effective},
        {"bounding", p.cap_bounding},
        {"ambient", p.cap_ambient}}},
      {"securebits", p.securebits},
      {"no_new_privs", p.no_new_privs},
      {"dumpable", p.dumpable},
      {"pdeath_signal", p.pdeath_signal},
      {"child_subreaper", p.child_subreaper},
      {"itimers", itimers_json(p.itimers)},
      {"posix_timers", posix_timers_json(p.posix_timers)},
  };
}

void ids_from(const json& j, const char* key, uint32_t (&out)[4]) {
  const json& a = j.at(key);
  if (!a.is_array() || a.size() != 4)
    throw Error("checkpoint model: key '" + std::string(key) + "' must hold 4 ids");
  for (size_t i = 0; i < 4; ++i) out[i] = a[i].get<uint32_t>();
}

Process process_from(const json& j) {
  Process p;
  p.pid = j.at("pid").get<pid_t>();
  p.ppid = j.at("ppid").get<pid_t>();
  p.pgid = j.at("pgid").get<pid_t>();
  p.sid = j.at("sid").get<pid_t>();
  p.comm = j.at("comm").get<std::string>();
  p.zombie = j.at("zombie").get<bool>();
  p.exit_status = j.at("exit_status").get<int>();
  for (const auto& t : j.at("threads")) p.threads.push_back(thread_from(t));
  for (const auto& v : j.at("vmas")) p.vmas.push_back(vma_from(v));
  p.pages_stream = j.at("pages_stream").get<std::string>();
  p.mm = mm_from(j.at("mm"));
  for (const auto& s : j.at("sigactions"))
    p.sigactions.push_back(SigAction{
        s.at("signo").get<int>(), s.at("handler").get<uint64_t>(), s.at("flags").get<uint64_t>(),
        s.at("restorer").get<uint64_t>(), s.at("mask").get<uint64_t>()});
  p.shared_pending = pending_from(j.at("shared_pending"));
  for (const auto& f : j.at("fds")) p.fds.push_back(fd_from(f));
  for (const auto& r : j.at("rlimits"))
    p.rlimits.push_back(Rlimit{r.at("resource").get<int>(), r.at("soft").get<uint64_t>(),
                               r.at("hard").get<uint64_t>()});
  p.umask = j.at("umask").get<uint32_t>();
  p.cwd = j.at("cwd").get<std::string>();
  p.root = j.at("root").get<std::string>();
  p.personality = j.at("personality").get<uint64_t>();
  const json& sched = j.at("sched");
  p.sched_policy = sched.at("policy").get<int>();
  p.sched_priority = sched.at("priority").get<int>();
  p.nice = sched.at("nice").get<int>();
  ids_from(j, "uid", p.uid);
  ids_from(j, "gid", p.gid);
  p.groups = j.at("groups").get<std::vector<uint32_t>>();
  opt(j, "unmapped_groups", p.unmapped_groups);
  const json& caps = j.at("caps");
  p.cap_inheritable = caps.at("inheritable").get<uint64_t>();
  p.cap_permitted = caps.at("permitted").get<uint64_t>();
  p.cap_effective = caps.at("effective").get<uint64_t>();
  p.cap_bounding = caps.at("bounding").get<uint64_t>();
  p.cap_ambient = caps.at("ambient").get<uint64_t>();
  p.securebits = j.at("securebits").get<uint32_t>();
  p.no_new_privs = j.at("no_new_privs").get<bool>();
  opt(j, "dumpable", p.dumpable);
  opt(j, "pdeath_signal", p.pdeath_signal);
  opt(j, "child_subreaper", p.child_subreaper);
  if (j.contains("itimers")) p.itimers = itimers_from(j.at("itimers"));
  if (j.contains("posix_timers")) p.posix_timers = posix_timers_from(j.at("posix_timers"));
  return p;
}

json id_map_json(const std::vector<IdRange>& map) {
  json out = json::array();
  for (const IdRange& r : map) out.push_back({r.inside, r.outside, r.count});
  return out;
}

std::vector<IdRange> id_map_from(const json& j, const char* key) {
  std::vector<IdRange> out;
  for (const auto& r : j.at(key)) {
    if (!r.is_array() || r.size() != 3)
      throw Error("checkpoint model: an entry of '" + std::string(key) +
                  "' must be [inside, outside, count]");
    out.push_back(IdRange{r[0].get<uint32_t>(), r[1].get<uint32_t>(), r[2].get<uint32_t>()});
  }
  return out;
}

json user_namespace_json(const UserNamespace& ns) {
  return {{"uid_map", id_map_json(ns.uid_map)},
          {"gid_map", id_map_json(ns.gid_map)},
          {"setgroups", ns.setgroups_allowed ? "allow" : "deny"}};
}

UserNamespace user_namespace_from(const json& j) {
  UserNamespace ns;
  ns.uid_map = id_map_from(j, "uid_map");
  ns.gid_map = id_map_from(j, "gid_map");
  std::string setgroups = j.at("setgroups").get<std::string>();
  if (setgroups != "allow" && setgroups != "deny")
    throw Error("checkpoint model: key 'setgroups': unknown value '" + setgroups + "'");
  ns.setgroups_allowed = setgroups == "allow";
  return ns;
}

}  // namespace

json to_json(const Checkpoint& checkpoint) {
  json processes = json::array(), shm = json::array();
  for (const auto& p : checkpoint.processes) processes.push_back(process_json(p));
  for (const auto& s : checkpoint.shared_memory)
    shm.push_back({{"id", s.id}, {"size", s.size}, {"stream", s.stream}});
  json out = {{"processes", processes},
              {"shared_memory", shm},
              {"xsave_features", checkpoint.xsave_features}};
  if (checkpoint.user_namespace)
    out["user_namespace"] = user_namespace_json(*checkpoint.user_namespace);
  return out;
}

Checkpoint checkpoint_from_json(const json& j) {
  try {
    Checkpoint c;
    for (const auto& p : j.at("processes")) c.processes.push_back(process_from(p));
    for (const auto& s : j.at("shared_memory"))
      c.shared_memory.push_back(SharedMemory{s.at("id").get<uint64_t>(),
                                             s.at("size").get<uint64_t>(),
                                             s.at("stream").get<std::string>()});
    c.xsave_features = j.at("xsave_features").get<uint64_t>();
    if (j.contains("user_namespace"))
      c.user_namespace = user_namespace_from(j.at("user_namespace"));
    return c;
  } catch (const json::exception& e) {
    // nlohmann's message names the missing key or the type mismatch ("key 'pid' not found").
    throw Error(std::string("checkpoint model in image body is malformed: ") + e.what(), 0,
                "the image was written by an incompatible version or was modified");
  }
}

}  // namespace ckpt::model
