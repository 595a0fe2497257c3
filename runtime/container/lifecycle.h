// The container lifecycle behind the CLI verbs. Each function is one verb's whole effect; the
// CLI files only parse flags and print.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "config/spec.h"
#include "runtime/container/launcher.h"
#include "runtime/container/state.h"

namespace ckpt::runtime {

struct RunOptions {
  bool detach = false;
  std::string spec_path;  // shown in `state`
  std::string bundle;     // OCI bundle, if the spec came from one
  std::string pid_file;   // write the init's host pid here (OCI --pid-file)
};

// Foreground: runs until the workload exits, forwarding signals, and returns its exit status
// (128+N if killed by signal N); the container is removed afterwards. Detached: returns 0 once
// the workload runs under a monitor process; it stays until `delete`.
int run_container(const StateStore& store, const config::ContainerSpec& spec,
                  const RunOptions& options);

// Starts an already-launched container's monitor life: waits for the init, records the exit.
// Used by run -d and restore -d. Never returns.
[[noreturn]] void monitor_container(const StateStore& store, const std::string& id, pid_t init);

void kill_container(const StateStore& store, const std::string& id, int signal, bool all);
void pause_container(const StateStore& store, const std::string& id);
void resume_container(const StateStore& store, const std::string& id);
void delete_container(const StateStore& store, const std::string& id, bool force);
// Runs `args` inside the container (all its namespaces and its cgroup); returns its exit status.
int exec_in_container(const StateStore& store, const std::string& id,
                      const std::vector<std::string>& args, const std::vector<std::string>& env,
                      const std::string& cwd);

// Waits (bounded) until `pid`, not necessarily our child, has exited.
void wait_for_process_exit(pid_t pid,
                           std::chrono::milliseconds timeout = std::chrono::seconds(5));

// "TERM", "SIGTERM", "15" -> 15; throws with a hint otherwise.
int parse_signal(const std::string& text);
// Exit status of a waitpid status as a shell reports it.
int exit_code_of(int wait_status);

}  // namespace ckpt::runtime
