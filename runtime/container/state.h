// Per-container state on disk: ROOT/<id>/ holds state.json (what `state` prints), spec.json (the
// validated spec the container was started from), container.log (output of a detached
// container), exit.json (written by the monitor when the container's init exits), and two lock
// files: creator.lock (held by whoever is creating the container) and checkpoint.lock (held by
// a running checkpoint).
//
// The directory appears in one step, already holding state.json and spec.json, before anything
// else of the container exists, and goes last: so whatever a killed `run` or `restore` left on
// the host (cgroups, veths, a half-restored tree) is found from the state directory, and
// `delete -f` can remove it. Liveness is never trusted from the file alone: the init's pid is
// checked together with its start time from /proc, so a recycled pid is not mistaken for the
// container, and the creator's liveness is its flock (common/file_lock.h), which dies with it.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "config/spec.h"

namespace ckpt::runtime {

// creating: its creator is still at work; broken: the creator died before the container ran
// (a killed run or restore), and only `delete` is left to do.
enum class Status { creating, running, paused, stopped, broken };
const char* status_name(Status s);

struct ContainerState {
  std::string id;
  pid_t pid = 0;                      // host pid of the container's init
  unsigned long long start_time = 0;  // init's starttime (field 22 of /proc/PID/stat)
  pid_t monitor_pid = 0;              // detached containers: the monitor process
  std::string created;                // ISO-8601 UTC
  std::string cgroup;                 // cgroup path shown to people
  std::string spec_path;              // the file the spec came from
  std::string bundle;                 // OCI bundle dir, if any
  bool detached = false;
  std::optional<int> exit_code;  // once stopped
  // Regular files given to the container as stdio when it started (its log, a redirected
  // file): a checkpoint treats them as supplied from outside, like a terminal.
  std::vector<std::pair<uint64_t, uint64_t>> stdio_files;  // (st_dev, st_ino)
  // True from the first moment until the record names a running init. The creator (run,
  // restore, or the monitor that took over from them) is recorded to be shown and, by
  // `delete -f`, stopped; whether it is alive is told by creator.lock.
  bool creating = false;
  pid_t creator_pid = 0;
  unsigned long long creator_start_time = 0;

  nlohmann::json to_json() const;
  static ContainerState from_json(const nlohmann::json& j);
};

class StateStore {
 public:
  explicit StateStore(std::string root);

  const std::string& root() const { return root_; }
  std::string dir(const std::string& id) const { return root_ + "/" + id; }
  std::string log_path(const std::string& id) const { return dir(id) + "/container.log"; }
  std::string creator_lock_path(const std::string& id) const { return dir(id) + "/creator.lock"; }
  std::string checkpoint_lock_path(const std::string& id) const {
    return dir(id) + "/checkpoint.lock";
  }

  // Publishes ROOT/<id> holding `initial` (creating, creator = this process) and the spec, in
  // one step: a hidden staging directory renamed with RENAME_NOREPLACE, so a second container
  // of the same name fails here, before anything is created, and a kill at any instant leaves
  // either nothing under the name or a directory `list` shows and `delete -f` removes. Returns
  // the creator lock, taken before publishing: held while the fd (or a forked copy) lives.
  UniqueFd create(const ContainerState& initial, const config::ContainerSpec& spec) const;
  // Throws "container ID already exists" if it does (create() checks again, atomically): a
  // start refuses a taken name before it looks at anything else.
  void refuse_existing(const std::string& id) const;
  void save(const ContainerState& state) const;
  void save_exit(const std::string& id, int exit_code) const;
  // Throws "container ID does not exist". A directory without state.json (made by hand, or by
  // an older crun-ckpt) loads as a record still `creating` with no creator: broken.
  ContainerState load(const std::string& id) const;
  config::ContainerSpec load_spec(const std::string& id) const;
  std::vector<std::string> list() const;
  bool exists(const std::string& id) const;
  void remove(const std::string& id) const;
  // Removes staging directories of `id` (or of every id, if empty) whose creator is dead.
  void remove_stale_staging(const std::string& id = "") const;

 private:
  std::string root_;
};

// Reads /proc/PID/stat field 22; 0 if the process does not exist.
unsigned long long process_start_time(pid_t pid);
// What current_status() learns from the kernel, so the rule below is unit-tested.
struct Liveness {
  bool init_alive = false;     // the recorded init pid runs with the recorded start time
  bool frozen = false;         // its cgroup is frozen
  bool creator_alive = false;  // someone holds creator.lock
};
// creating/broken while the record is still `creating` (creator alive or not), else running,
// paused or stopped by the init and its cgroup.
Status derive_status(const ContainerState& state, const Liveness& live);
// The live status; fills exit_code from exit.json when stopped.
Status current_status(const StateStore& store, ContainerState& state);
// True if `pid` runs and started at `start_time` (not a recycled pid).
bool process_alive(pid_t pid, unsigned long long start_time);

std::string now_iso8601();

}  // namespace ckpt::runtime
