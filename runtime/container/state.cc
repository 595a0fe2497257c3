#include "runtime/container/state.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <ctime>

#include "cgroup/cgroup.h"
#include "common/error.h"
#include "common/file_util.h"
#include "common/parse_number.h"
#include "config/spec_json.h"

namespace ckpt::runtime {

const char* status_name(Status s) {
  switch (s) {
    case Status::creating: return "created";
    case Status::running: return "running";
    case Status::paused: return "paused";
    case Status::stopped: return "stopped";
  }
  return "unknown";
}

nlohmann::json ContainerState::to_json() const {
  nlohmann::json j = {{"id", id},         {"pid", pid},         {"start_time", start_time},
                      {"monitor_pid", monitor_pid}, {"created", created}, {"cgroup", cgroup},
                      {"spec_path", spec_path}, {"bundle", bundle}, {"detached", detached}};
  if (exit_code) j["exit_code"] = *exit_code;
  j["stdio_files"] = stdio_files;
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
  return s;
}

StateStore::StateStore(std::string root) : root_(std::move(root)) {}

void StateStore::reserve(const std::string& id) const {
  make_dirs(root_, 0700);
  std::string d = dir(id);
  if (::mkdir(d.c_str(), 0700) < 0) {
    if (errno == EEXIST)
      throw Error("container '" + id + "' already exists", 0,
                  "choose another name, or remove it with `crun-ckpt delete -f " + id + "`");
    throw sys_error("create state directory " + d);
  }
}

void StateStore::save(const ContainerState& state) const {
  write_file_atomic(dir(state.id) + "/state.json", state.to_json().dump(2) + "\n", 0600, false);
}

void StateStore::save_spec(const std::string& id, const config::ContainerSpec& spec) const {
  write_file_atomic(dir(id) + "/spec.json", config::spec_to_json(spec).dump(2) + "\n", 0600,
                    false);
}

void StateStore::save_exit(const std::string& id, int exit_code) const {
  nlohmann::json j = {{"exit_code", exit_code}, {"finished", now_iso8601()}};
  write_file_atomic(dir(id) + "/exit.json", j.dump() + "\n", 0600, false);
}

bool StateStore::exists(const std::string& id) const {
  struct stat st;
  return ::stat((dir(id) + "/state.json").c_str(), &st) == 0;
}

ContainerState StateStore::load(const std::string& id) const {
  if (!exists(id))
    throw Error("container '" + id + "' does not exist", 0,
                "`crun-ckpt --root " + root_ + " list` shows the containers");
  return with_context("container '" + id + "'", [&] {
    try {
      return ContainerState::from_json(nlohmann::json::parse(read_file(dir(id) + "/state.json")));
    } catch (const nlohmann::json::exception& e) {
      throw Error(dir(id) + "/state.json is corrupt: " + e.what(), 0,
                  "remove it with `crun-ckpt delete -f " + id + "`");
    }
  });
}

config::ContainerSpec StateStore::load_spec(const std::string& id) const {
  return config::spec_from_json(nlohmann::json::parse(read_file(dir(id) + "/spec.json")));
}

std::vector<std::string> StateStore::list() const {
  std::vector<std::string> ids;
  DIR* d = ::opendir(root_.c_str());
  if (d == nullptr) return ids;
  while (dirent* ent = ::readdir(d)) {
    if (ent->d_name[0] == '.') continue;
    if (exists(ent->d_name)) ids.emplace_back(ent->d_name);
  }
  ::closedir(d);
  std::sort(ids.begin(), ids.end());
  return ids;
}

void StateStore::remove(const std::string& id) const { remove_tree(dir(id)); }

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

Status current_status(const StateStore& store, ContainerState& state) {
  bool alive = state.pid > 0 && process_start_time(state.pid) == state.start_time &&
               state.start_time != 0;
  if (!alive) {
    try {
      auto j = nlohmann::json::parse(read_file(store.dir(state.id) + "/exit.json"));
      state.exit_code = j.at("exit_code").get<int>();
    } catch (...) {
    }
    return Status::stopped;
  }
  try {
    auto cg = cgroup::open(cgroup::detect_layout(), state.id);
    if (cg->frozen()) return Status::paused;
  } catch (const Error&) {
  }
  return Status::running;
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
