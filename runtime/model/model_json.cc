// JSON form of the checkpoint model. Enums are written as their names so `image inspect` output
// reads well; binary strings (siginfo) are lowercase hex. A File's own fields are written by the
// handler of its kind (runtime/files/file_kinds.h), so a new kind brings its JSON along. Reading is
// strict about types (a wrong-typed or missing key is an error naming the key) so a tampered body
// is refused rather than silently defaulted; keys added later are optional so older images still
// read.
#include "runtime/model/model_json.h"

#include <array>
#include <concepts>
#include <limits>
#include <string_view>
#include <utility>

#include "common/error.h"
#include "runtime/files/file_kinds.h"

namespace ckpt::model {

using nlohmann::json;

namespace {

constexpr const char* kDamaged = "the image is damaged or from an incompatible crun-ckpt";

constexpr std::array<std::pair<VmaKind, const char*>, 7> kVmaKinds = {{
    {VmaKind::anonymous_private, "anonymous_private"},
    {VmaKind::anonymous_shared, "anonymous_shared"},
    {VmaKind::file_private, "file_private"},
    {VmaKind::file_shared, "file_shared"},
    {VmaKind::vdso, "vdso"},
    {VmaKind::vvar, "vvar"},
    {VmaKind::vsyscall, "vsyscall"},
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

// An integer of the body, range-checked: nlohmann's get<int>() would wrap 99999999999 and
// truncate 3.5 without a word. Same wording as common/parse_number.h.
template <std::integral T>
T number(const json& v, const char* key) {
  const std::string where = "checkpoint model: key '" + std::string(key) + "'";
  if (v.is_number_unsigned()) {
    if (std::in_range<T>(v.get<uint64_t>())) return static_cast<T>(v.get<uint64_t>());
  } else if (v.is_number_integer()) {
    if (std::in_range<T>(v.get<int64_t>())) return static_cast<T>(v.get<int64_t>());
  } else {
    throw Error(where + ": expected an integer, found " + v.type_name(), 0, kDamaged);
  }
  throw Error(where + " " + v.dump() + " is out of range: expected " +
                  std::to_string(std::numeric_limits<T>::min()) + " to " +
                  std::to_string(std::numeric_limits<T>::max()),
              0, kDamaged);
}
template <std::integral T>
T integer(const json& j, const char* key) {
  return number<T>(j.at(key), key);
}
template <std::integral T>
std::vector<T> integers(const json& j, const char* key) {
  const json& list = j.at(key);
  if (!list.is_array())
    throw Error("checkpoint model: key '" + std::string(key) + "' is not a list", 0, kDamaged);
  std::vector<T> out;
  for (const json& v : list) out.push_back(number<T>(v, key));
  return out;
}

// Reads key into out if present (optional keys keep their default).
template <typename T>
void opt(const json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it == j.end()) return;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
    out = number<T>(*it, key);
  else
    out = it->template get<T>();
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
          {"ghost_id", v.ghost_id},
          {"runs", runs}};
}

Vma vma_from(const json& j) {
  Vma v;
  v.start = integer<uint64_t>(j, "start");
  v.end = integer<uint64_t>(j, "end");
  v.prot = integer<int>(j, "prot");
  v.flags = integer<int>(j, "flags");
  v.kind = enum_value(kVmaKinds, j, "kind");
  opt(j, "name", v.name);
  opt(j, "path", v.path);
  opt(j, "offset", v.offset);
  opt(j, "shared_id", v.shared_id);
  opt(j, "ghost_id", v.ghost_id);
  for (const auto& r : j.at("runs")) {
    if (!r.is_array() || r.size() != 2)
      throw Error("checkpoint model: a page run must be [start, npages]");
    v.runs.push_back(PageRun{number<uint64_t>(r[0], "runs"), number<uint64_t>(r[1], "runs")});
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
  m.start_code = integer<uint64_t>(j, "start_code");
  m.end_code = integer<uint64_t>(j, "end_code");
  m.start_data = integer<uint64_t>(j, "start_data");
  m.end_data = integer<uint64_t>(j, "end_data");
  m.start_brk = integer<uint64_t>(j, "start_brk");
  m.brk = integer<uint64_t>(j, "brk");
  m.start_stack = integer<uint64_t>(j, "start_stack");
  m.arg_start = integer<uint64_t>(j, "arg_start");
  m.arg_end = integer<uint64_t>(j, "arg_end");
  m.env_start = integer<uint64_t>(j, "env_start");
  m.env_end = integer<uint64_t>(j, "env_end");
  m.auxv = integers<uint64_t>(j, "auxv");
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
  t.seccomp_mode = integer<int>(*it, "mode");
  for (const auto& f : it->at("filters")) {
    t.seccomp_filters.push_back(from_hex(f.at("program").get<std::string>()));
    t.seccomp_filter_flags.push_back(integer<uint64_t>(f, "flags"));
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
  t.tid = integer<pid_t>(j, "tid");
  t.regs_file = j.at("regs_file").get<std::string>();
  t.xstate_file = j.at("xstate_file").get<std::string>();
  t.fs_base = integer<uint64_t>(j, "fs_base");
  t.gs_base = integer<uint64_t>(j, "gs_base");
  t.blocked_mask = integer<uint64_t>(j, "blocked_mask");
  t.pending = pending_from(j.at("pending"));
  const json& alt = j.at("altstack");
  t.altstack_sp = integer<uint64_t>(alt, "sp");
  t.altstack_size = integer<uint64_t>(alt, "size");
  t.altstack_flags = integer<int>(alt, "flags");
  const json& rseq = j.at("rseq");
  t.rseq_addr = integer<uint64_t>(rseq, "addr");
  t.rseq_len = integer<uint32_t>(rseq, "len");
  t.rseq_sig = integer<uint32_t>(rseq, "sig");
  opt(j, "clear_child_tid", t.clear_child_tid);
  opt(j, "comm", t.comm);
  seccomp_from(j, t);
  return t;
}

json fd_json(const Fd& f) {
  return {{"fd", f.fd}, {"file", f.file}, {"cloexec", f.cloexec}};
}

Fd fd_from(const json& j) {
  return Fd{integer<int>(j, "fd"), integer<uint64_t>(j, "file"), j.at("cloexec").get<bool>()};
}

// Common fields here, the kind's own through its handler (runtime/files/).
json file_json(const File& f) {
  const files::FileKindHandler& h = files::handler(f.kind);
  json out = {{"id", f.id}, {"kind", h.name()}, {"flags", f.flags}, {"pos", f.pos}};
  h.to_json(f, out);
  return out;
}

File file_from(const json& j) {
  File f;
  f.id = integer<uint64_t>(j, "id");
  std::string kind = j.at("kind").get<std::string>();
  const files::FileKindHandler* h = files::handler_named(kind);
  if (h == nullptr) throw Error("checkpoint model: key 'kind': unknown file kind '" + kind + "'");
  f.kind = h->kind();
  f.flags = integer<int>(j, "flags");
  f.pos = integer<uint64_t>(j, "pos");
  h->from_json(j, f);
  return f;
}

json ghost_json(const GhostFile& g) {
  json runs = json::array();
  for (const DataRun& r : g.runs) runs.push_back({r.offset, r.length});
  return {{"id", g.id},   {"path", g.path}, {"size", g.size},     {"mode", g.mode},
          {"uid", g.uid}, {"gid", g.gid},   {"stream", g.stream}, {"runs", runs}};
}

GhostFile ghost_from(const json& j) {
  GhostFile g;
  g.id = integer<uint64_t>(j, "id");
  g.path = j.at("path").get<std::string>();
  g.size = integer<uint64_t>(j, "size");
  g.mode = integer<uint32_t>(j, "mode");
  g.uid = integer<uint32_t>(j, "uid");
  g.gid = integer<uint32_t>(j, "gid");
  g.stream = j.at("stream").get<std::string>();
  for (const auto& r : j.at("runs")) {
    if (!r.is_array() || r.size() != 2)
      throw Error("checkpoint model: a data run must be [offset, length]");
    g.runs.push_back(DataRun{number<uint64_t>(r[0], "runs"), number<uint64_t>(r[1], "runs")});
  }
  return g;
}

// Images written before open file descriptions were modelled keep per-fd records (path, pos,
// flags, external): each becomes a description of its own, as they were restored then.
void legacy_fds_from(const json& list, Process& p, std::vector<File>& files) {
  for (const auto& j : list) {
    File f;
    f.id = files.size() + 1;
    f.flags = integer<int>(j, "flags");
    f.pos = integer<uint64_t>(j, "pos");
    std::string kind = j.at("kind").get<std::string>();
    std::string external = j.value("external", std::string());
    if (!external.empty()) {
      f.kind = FileKind::external;
      f.stdio = external;
      f.was = kind;
      f.pos = 0;
    } else if (kind == "regular" || kind == "directory") {
      f.kind = kind == "regular" ? FileKind::regular : FileKind::directory;
      f.path = j.at("path").get<std::string>();
    } else {
      throw Error("checkpoint model: fd " + std::to_string(integer<int>(j, "fd")) + " of pid " +
                  std::to_string(p.pid) + " is of kind '" + kind + "', which was never restorable");
    }
    files.push_back(f);
    p.fds.push_back(Fd{integer<int>(j, "fd"), f.id, j.at("cloexec").get<bool>()});
  }
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
    out.push_back(ITimer{integer<int>(t, "which"), integer<uint64_t>(t, "value_ns"),
                         integer<uint64_t>(t, "interval_ns")});
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
    p.id = integer<int>(t, "id");
    p.clock_id = integer<int>(t, "clock_id");
    p.notify = integer<int>(t, "notify");
    p.signo = integer<int>(t, "signo");
    p.notify_tid = integer<pid_t>(t, "notify_tid");
    p.sigev_value = integer<uint64_t>(t, "sigev_value");
    p.value_ns = integer<uint64_t>(t, "value_ns");
    p.interval_ns = integer<uint64_t>(t, "interval_ns");
    p.overrun = integer<int>(t, "overrun");
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
  for (size_t i = 0; i < 4; ++i) out[i] = number<uint32_t>(a[i], key);
}

Process process_from(const json& j, bool legacy_fds) {
  Process p;
  p.pid = integer<pid_t>(j, "pid");
  p.ppid = integer<pid_t>(j, "ppid");
  p.pgid = integer<pid_t>(j, "pgid");
  p.sid = integer<pid_t>(j, "sid");
  p.comm = j.at("comm").get<std::string>();
  p.zombie = j.at("zombie").get<bool>();
  p.exit_status = integer<int>(j, "exit_status");
  for (const auto& t : j.at("threads")) p.threads.push_back(thread_from(t));
  for (const auto& v : j.at("vmas")) p.vmas.push_back(vma_from(v));
  p.pages_stream = j.at("pages_stream").get<std::string>();
  p.mm = mm_from(j.at("mm"));
  for (const auto& s : j.at("sigactions"))
    p.sigactions.push_back(SigAction{
        integer<int>(s, "signo"), integer<uint64_t>(s, "handler"), integer<uint64_t>(s, "flags"),
        integer<uint64_t>(s, "restorer"), integer<uint64_t>(s, "mask")});
  p.shared_pending = pending_from(j.at("shared_pending"));
  // Old images (without "files" in the checkpoint) are converted by legacy_fds_from.
  if (!legacy_fds)
    for (const auto& f : j.at("fds")) p.fds.push_back(fd_from(f));
  for (const auto& r : j.at("rlimits"))
    p.rlimits.push_back(Rlimit{integer<int>(r, "resource"), integer<uint64_t>(r, "soft"),
                               integer<uint64_t>(r, "hard")});
  p.umask = integer<uint32_t>(j, "umask");
  p.cwd = j.at("cwd").get<std::string>();
  p.root = j.at("root").get<std::string>();
  p.personality = integer<uint64_t>(j, "personality");
  const json& sched = j.at("sched");
  p.sched_policy = integer<int>(sched, "policy");
  p.sched_priority = integer<int>(sched, "priority");
  p.nice = integer<int>(sched, "nice");
  ids_from(j, "uid", p.uid);
  ids_from(j, "gid", p.gid);
  p.groups = integers<uint32_t>(j, "groups");
  if (j.contains("unmapped_groups")) p.unmapped_groups = integers<uint32_t>(j, "unmapped_groups");
  const json& caps = j.at("caps");
  p.cap_inheritable = integer<uint64_t>(caps, "inheritable");
  p.cap_permitted = integer<uint64_t>(caps, "permitted");
  p.cap_effective = integer<uint64_t>(caps, "effective");
  p.cap_bounding = integer<uint64_t>(caps, "bounding");
  p.cap_ambient = integer<uint64_t>(caps, "ambient");
  p.securebits = integer<uint32_t>(j, "securebits");
  p.no_new_privs = j.at("no_new_privs").get<bool>();
  opt(j, "dumpable", p.dumpable);
  opt(j, "pdeath_signal", p.pdeath_signal);
  opt(j, "child_subreaper", p.child_subreaper);
  if (j.contains("itimers")) p.itimers = itimers_from(j.at("itimers"));
  if (j.contains("posix_timers")) p.posix_timers = posix_timers_from(j.at("posix_timers"));
  return p;
}

json tmpfs_json(const TmpfsMount& t) {
  return {{"mount_point", t.mount_point}, {"mount_options", t.mount_options},
          {"fs_options", t.fs_options},   {"stream", t.stream},
          {"entries", t.entries},         {"bytes", t.bytes}};
}

TmpfsMount tmpfs_from(const json& j) {
  TmpfsMount t;
  t.mount_point = j.at("mount_point").get<std::string>();
  t.mount_options = j.at("mount_options").get<std::string>();
  t.fs_options = j.at("fs_options").get<std::string>();
  t.stream = j.at("stream").get<std::string>();
  t.entries = integer<uint64_t>(j, "entries");
  t.bytes = integer<uint64_t>(j, "bytes");
  return t;
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
    out.push_back(IdRange{number<uint32_t>(r[0], key), number<uint32_t>(r[1], key),
                          number<uint32_t>(r[2], key)});
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
  json processes = json::array(), shm = json::array(), tmpfs = json::array(),
       files = json::array(), ghosts = json::array();
  for (const auto& p : checkpoint.processes) processes.push_back(process_json(p));
  for (const auto& s : checkpoint.shared_memory)
    shm.push_back({{"id", s.id}, {"size", s.size}, {"stream", s.stream}});
  for (const auto& t : checkpoint.tmpfs_mounts) tmpfs.push_back(tmpfs_json(t));
  for (const auto& f : checkpoint.files) files.push_back(file_json(f));
  for (const auto& g : checkpoint.ghost_files) ghosts.push_back(ghost_json(g));
  json out = {{"processes", processes},
              {"shared_memory", shm},
              {"tmpfs_mounts", tmpfs},
              {"files", files},
              {"ghost_files", ghosts},
              {"xsave_features", checkpoint.xsave_features}};
  if (checkpoint.uts)
    out["uts"] = {{"hostname", checkpoint.uts->hostname},
                  {"domainname", checkpoint.uts->domainname}};
  if (checkpoint.user_namespace)
    out["user_namespace"] = user_namespace_json(*checkpoint.user_namespace);
  return out;
}

Checkpoint checkpoint_from_json(const json& j) {
  try {
    Checkpoint c;
    bool legacy_fds = !j.contains("files");
    for (const auto& p : j.at("processes")) {
      c.processes.push_back(process_from(p, legacy_fds));
      if (legacy_fds) legacy_fds_from(p.at("fds"), c.processes.back(), c.files);
    }
    if (!legacy_fds)
      for (const auto& f : j.at("files")) c.files.push_back(file_from(f));
    if (j.contains("ghost_files"))
      for (const auto& g : j.at("ghost_files")) c.ghost_files.push_back(ghost_from(g));
    for (const auto& s : j.at("shared_memory"))
      c.shared_memory.push_back(SharedMemory{integer<uint64_t>(s, "id"),
                                             integer<uint64_t>(s, "size"),
                                             s.at("stream").get<std::string>()});
    // Images written before tmpfs contents were captured have no key: no mounts to fill.
    if (j.contains("tmpfs_mounts"))
      for (const auto& t : j.at("tmpfs_mounts")) c.tmpfs_mounts.push_back(tmpfs_from(t));
    c.xsave_features = integer<uint64_t>(j, "xsave_features");
    if (j.contains("uts")) {
      const json& uts = j.at("uts");
      c.uts =
          UtsNames{uts.at("hostname").get<std::string>(), uts.at("domainname").get<std::string>()};
    }
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
