#include "runtime/container/state.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <ctime>

#include "cgroup/cgroup.h"
#include "common/error.h"
#include "common/file_lock.h"
#include "common/file_util.h"
#include "common/parse_number.h"
#include "common/unique_fd.h"
#include "config/spec_json.h"

namespace ckpt::runtime {

const char* status_name(Status s) {
  switch (s) {
    case Status::creating:
      return "creating";
    case Status::running:
      return "running";
    case Status::paused:
      return "paused";
    case Status::stopped:
      return "stopped";
    case Status::broken:
      return "broken";
  }
  return "unknown";
}

nlohmann::json ContainerState::to_json() const {
  nlohmann::json j = {{"id", id},
                      {"pid", pid},
                      {"start_time", start_time},
                      {"monitor_pid", monitor_pid},
                      {"created", created},
                      {"cgroup", cgroup},
                      {"spec_path", spec_path},
                      {"bundle", bundle},
                      {"detached", detached}};
  if (exit_code) j["exit_code"] = *exit_code;
  j["stdio_files"] = stdio_files;
  j["creating"] = creating;
  j["creator_pid"] = creator_pid;
  j["creator_start_time"] = creator_start_time;
  return j;
}

ContainerState ContainerState::from_json(const nlohmann::json& j) {
  ContainerState s;
  s.id = j.at("id").get<std::string>();
  s.pid = j.at("pid").get<pid_t>();
  s.start_time = j.value("start_time", 0ULL);
  s.monitor_pid = j.value("monitor_pid", 0);
  s.created = j.value("created", "");
  s.cgroup = j.value("cgroup", "");
  s.spec_path = j.value("spec_path", "");
  s.bundle = j.value("bundle", "");
  s.detached = j.value("detached", false);
  if (j.contains("exit_code")) s.exit_code = j["exit_code"].get<int>();
  if (j.contains("stdio_files"))
    s.stdio_files = j["stdio_files"].get<std::vector<std::pair<uint64_t, uint64_t>>>();
  s.creating = j.value("creating", false);
  s.creator_pid = j.value("creator_pid", 0);
  s.creator_start_time = j.value("creator_start_time", 0ULL);
  return s;
}

StateStore::StateStore(std::string root) : root_(std::move(root)) {}

namespace {

constexpr const char* kStagingPrefix = ".new-";

// ".new-PID-START-ID": hidden (ids start with a letter or digit, so never listed as a
// container), and naming its creator exactly, so a leftover of a killed creator is recognized.
std::string staging_name(const std::string& id) {
  pid_t me = ::getpid();
  return kStagingPrefix + std::to_string(me) + "-" + std::to_string(process_start_time(me)) + "-" +
         id;
}

struct StagingName {
  pid_t pid = 0;
  unsigned long long start_time = 0;
  std::string id;
};

std::optional<StagingName> parse_staging_name(const std::string& name) {
  std::string_view rest(name);
  if (rest.substr(0, 5) != kStagingPrefix) return std::nullopt;
  rest.remove_prefix(5);
  StagingName out;
  auto [p1, e1] = std::from_chars(rest.data(), rest.data() + rest.size(), out.pid);
  if (e1 != std::errc() || p1 == rest.data() + rest.size() || *p1 != '-') return std::nullopt;
  rest.remove_prefix(p1 - rest.data() + 1);
  auto [p2, e2] = std::from_chars(rest.data(), rest.data() + rest.size(), out.start_time);
  if (e2 != std::errc() || p2 == rest.data() + rest.size() || *p2 != '-') return std::nullopt;
  rest.remove_prefix(p2 - rest.data() + 1);
  if (rest.empty()) return std::nullopt;
  out.id = std::string(rest);
  return out;
}

Error already_exists(const std::string& id) {
  return Error("container '" + id + "' already exists", 0,
               "choose another name, or remove it with `crun-ckpt delete -f " + id + "`");
}

bool is_directory(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

UniqueFd StateStore::create(const ContainerState& initial,
                            const config::ContainerSpec& spec) const {
  make_dirs(root_, 0700);
  const std::string& id = initial.id;
  std::string final_dir = dir(id);
  if (is_directory(final_dir)) throw already_exists(id);
  remove_stale_staging(id);
  std::string staging = root_ + "/" + staging_name(id);
  if (::mkdir(staging.c_str(), 0700) < 0) throw sys_error("create state directory " + staging);
  UniqueFd lock;
  try {
    lock = try_lock_file(staging + "/creator.lock");
    if (!lock) throw Error("creator lock " + staging + "/creator.lock is held by another process");
    write_file_atomic(staging + "/spec.json", config::spec_to_json(spec).dump(2) + "\n", 0600,
                      false);
    write_file_atomic(staging + "/state.json", initial.to_json().dump(2) + "\n", 0600, false);
    if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, final_dir.c_str(), RENAME_NOREPLACE) < 0) {
      if (errno == EEXIST || errno == ENOTEMPTY) throw already_exists(id);
      if (errno != EINVAL) throw sys_error("publish state directory " + final_dir);
      // A file system without RENAME_NOREPLACE: claim the name with mkdir and move the files
      // in, the lock first, so the directory never looks abandoned while we live.
      if (::mkdir(final_dir.c_str(), 0700) < 0) {
        if (errno == EEXIST) throw already_exists(id);
        throw sys_error("create state directory " + final_dir);
      }
      for (const char* name : {"creator.lock", "spec.json", "state.json"}) {
        std::string from = staging + "/" + name, to = final_dir + "/" + name;
        if (::rename(from.c_str(), to.c_str()) < 0) throw sys_error("move " + from + " to " + to);
      }
      ::rmdir(staging.c_str());
    }
  } catch (...) {
    try {
      remove_tree(staging);
    } catch (...) {
    }
    throw;
  }
  return lock;
}

void StateStore::refuse_existing(const std::string& id) const {
  if (is_directory(dir(id))) throw already_exists(id);
}

void StateStore::remove_stale_staging(const std::string& id) const {
  DIR* d = ::opendir(root_.c_str());
  if (d == nullptr) return;
  std::vector<std::string> stale;
  while (dirent* ent = ::readdir(d)) {
    std::optional<StagingName> name = parse_staging_name(ent->d_name);
    if (!name || (!id.empty() && name->id != id)) continue;
    if (!process_alive(name->pid, name->start_time)) stale.emplace_back(ent->d_name);
  }
  ::closedir(d);
  for (const auto& name : stale) remove_tree(root_ + "/" + name);
}

void StateStore::save(const ContainerState& state) const {
  write_file_atomic(dir(state.id) + "/state.json", state.to_json().dump(2) + "\n", 0600, false);
}

void StateStore::save_exit(const std::string& id, int exit_code) const {
  nlohmann::json j = {{"exit_code", exit_code}, {"finished", now_iso8601()}};
  write_file_atomic(dir(id) + "/exit.json", j.dump() + "\n", 0600, false);
}

bool StateStore::exists(const std::string& id) const {
  return is_directory(dir(id));
}

ContainerState StateStore::load(const std::string& id) const {
  if (!exists(id)) {
    // A creator killed before it published the container leaves only its hidden staging
    // directory: garbage no command would show, removed here so "does not exist" is the truth.
    try {
      remove_stale_staging(id);
    } catch (const Error&) {
    }
    throw Error("container '" + id + "' does not exist", 0,
                "`crun-ckpt --root " + root_ + " list` shows the containers");
  }
  std::string text;
  try {
    text = read_file(dir(id) + "/state.json");
  } catch (const Error& e) {
    if (e.code() != ENOENT) throw Error("container '" + id + "': read state.json", e.code());
    ContainerState unknown;
    unknown.id = id;
    unknown.creating = true;
    return unknown;
  }
  try {
    return ContainerState::from_json(nlohmann::json::parse(text));
  } catch (const nlohmann::json::exception& e) {
    throw Error("container '" + id + "': " + dir(id) + "/state.json is corrupt: " + e.what(), 0,
                "remove it with `crun-ckpt delete -f " + id + "`");
  }
}

config::ContainerSpec StateStore::load_spec(const std::string& id) const {
  return config::spec_from_json(nlohmann::json::parse(read_file(dir(id) + "/spec.json")));
}

std::vector<std::string> StateStore::list() const {
  try {
    remove_stale_staging();  // creators killed before publishing: nothing to list, only garbage
  } catch (const Error&) {
  }
  std::vector<std::string> ids;
  DIR* d = ::opendir(root_.c_str());
  if (d == nullptr) return ids;
  while (dirent* ent = ::readdir(d)) {
    if (ent->d_name[0] == '.') continue;  // ., .., staging directories
    if (exists(ent->d_name)) ids.emplace_back(ent->d_name);
  }
  ::closedir(d);
  std::sort(ids.begin(), ids.end());
  return ids;
}

void StateStore::remove(const std::string& id) const {
  remove_tree(dir(id));
}

unsigned long long process_start_time(pid_t pid) {
  std::string stat;
  try {
    stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  } catch (const Error&) {
    return 0;
  }
  // comm (field 2) may contain spaces and parentheses: fields restart after the last ')'.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::vector<std::string> fields = split(std::string_view(stat).substr(close + 2), ' ');
  // fields[0] is field 3 (state); starttime is field 22.
  if (fields.size() < 20) return 0;
  if (fields[0] == "Z" || fields[0] == "X") return 0;
  return with_context("/proc/" + std::to_string(pid) + "/stat",
                      [&] { return parse_number<unsigned long long>(fields[19], "starttime"); });
}

bool process_alive(pid_t pid, unsigned long long start_time) {
  return pid > 0 && start_time != 0 && process_start_time(pid) == start_time;
}

namespace {

// Waits (at most `ms`) until process `pid` has exited; returns at once if it is gone.
void wait_exit_of(pid_t pid, int ms) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return;
  UniqueFd owner(fd);
  pollfd pfd = {fd, POLLIN, 0};
  while (::poll(&pfd, 1, ms) < 0 && errno == EINTR) {
  }
}

}  // namespace

Status derive_status(const ContainerState& state, const Liveness& live) {
  if (state.creating) return live.creator_alive ? Status::creating : Status::broken;
  if (!live.init_alive) return Status::stopped;
  return live.frozen ? Status::paused : Status::running;
}

Status current_status(const StateStore& store, ContainerState& state) {
  Liveness live;
  live.init_alive = process_alive(state.pid, state.start_time);
  try {
    live.creator_alive = state.creating && lock_file_held(store.creator_lock_path(state.id));
  } catch (const Error&) {
    // Removed meanwhile (deleted): nobody is creating it.
  }
  if (live.init_alive) {
    try {
      live.frozen = cgroup::open(cgroup::detect_layout(), state.id)->frozen();
    } catch (const Error&) {
    }
  }
  Status status = derive_status(state, live);
  if (status == Status::stopped) {
    // The init may have died an instant ago: its monitor reaps it, records the exit and exits
    // (monitor_container). Give it that instant, so `stopped` always comes with its exit code.
    std::string exit_path = store.dir(state.id) + "/exit.json";
    bool monitor_is_creator = state.monitor_pid > 0 && state.monitor_pid == state.creator_pid;
    if (state.detached && monitor_is_creator && ::access(exit_path.c_str(), F_OK) != 0 &&
        process_alive(state.monitor_pid, state.creator_start_time))
      wait_exit_of(state.monitor_pid, 2000);
    try {
      auto j = nlohmann::json::parse(read_file(store.dir(state.id) + "/exit.json"));
      state.exit_code = j.at("exit_code").get<int>();
    } catch (...) {
    }
  }
  return status;
}

std::string now_iso8601() {
  char buf[32];
  time_t t = ::time(nullptr);
  struct tm tm;
  ::gmtime_r(&t, &tm);
  ::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace ckpt::runtime
