// Per-container state on disk: ROOT/<id>/ holds state.json (what `state` prints), spec.json (the
// validated spec the container was started from), container.log (output of a detached
// container) and exit.json (written by the monitor when the container's init exits).
// Liveness is never trusted from the file alone: the init's pid is checked together with its
// start time from /proc, so a recycled pid is not mistaken for the container.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/spec.h"

namespace ckpt::runtime {

enum class Status { creating, running, paused, stopped };
const char* status_name(Status s);

struct ContainerState {
  std::string id;
  pid_t pid = 0;                  // host pid of the container's init
  unsigned long long start_time = 0;  // init's starttime (field 22 of /proc/PID/stat)
  pid_t monitor_pid = 0;          // detached containers: the monitor process
  std::string created;            // ISO-8601 UTC
  std::string cgroup;             // cgroup path shown to people
  std::string spec_path;          // the file the spec came from
  std::string bundle;             // OCI bundle dir, if any
  bool detached = false;
  std::optional<int> exit_code;   // once stopped
  // Regular files given to the container as stdio when it started (its log, a redirected
  // file): a checkpoint treats them as supplied from outside, like a terminal.
  std::vector<std::pair<uint64_t, uint64_t>> stdio_files;  // (st_dev, st_ino)

  nlohmann::json to_json() const;
  static ContainerState from_json(const nlohmann::json& j);
};

class StateStore {
 public:
  explicit StateStore(std::string root);

  const std::string& root() const { return root_; }
  std::string dir(const std::string& id) const { return root_ + "/" + id; }
  std::string log_path(const std::string& id) const { return dir(id) + "/container.log"; }

  // Creates ROOT/<id> exclusively (mkdir): a second container of the same name fails here with
  // a clear message before anything else is created.
  void reserve(const std::string& id) const;
  void save(const ContainerState& state) const;
  void save_spec(const std::string& id, const config::ContainerSpec& spec) const;
  void save_exit(const std::string& id, int exit_code) const;
  ContainerState load(const std::string& id) const;  // throws "container ID does not exist"
  config::ContainerSpec load_spec(const std::string& id) const;
  std::vector<std::string> list() const;
  bool exists(const std::string& id) const;
  void remove(const std::string& id) const;

 private:
  std::string root_;
};

// Reads /proc/PID/stat field 22; 0 if the process does not exist.
unsigned long long process_start_time(pid_t pid);
// The live status: stopped if the init is gone (or is another process now), paused if its
// cgroup is frozen, else running. Fills exit_code from exit.json when stopped.
Status current_status(const StateStore& store, ContainerState& state);

std::string now_iso8601();

}  // namespace ckpt::runtime
