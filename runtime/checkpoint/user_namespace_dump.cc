// The container's user namespace in a dump (user_namespaces(7)).
//
// What the restore needs: the maps and setgroups mode, to check that the namespace it creates
// is the same one, and every process's credentials as the container sees them, because the
// restore sets them with injected set*id calls from inside that namespace. /proc/PID/status
// shows ids in the reader's namespace (fs/proc/array.c task_state, from_kuid_munged with the
// reader's user_ns), so the dumper reads host ids and translates them here through the maps.
//
// Refused: a task in any other user namespace (one the workload created: `unshare -U`). Its
// ids, capabilities and the namespace's own maps would need a nested namespace the restore
// does not build, and its capabilities are relative to that namespace.
#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/checkpoint/dump_context.h"
#include "runtime/model/id_map.h"
#include "runtime/task/user_ns.h"

namespace ckpt::checkpoint {

namespace {

// The one-line refusal for a list of problems, as classify_stage words them.
[[noreturn]] void refuse(const std::vector<std::string>& problems) {
  std::string line = "cannot checkpoint: " + problems.front();
  if (problems.size() > 1) {
    line += " (and " + std::to_string(problems.size() - 1) + " more problem" +
            (problems.size() > 2 ? "s" : "") + ")";
  }
  throw Error(line);
}

}  // namespace

void classify_user_namespace(DumpContext& ctx) {
  auto& procs = ctx.seized.processes();
  pid_t init = ctx.seized.init_host_pid();
  task::UserNsFiles files = with_context("user namespace of the container's init",
                                         [&] { return task::read_user_ns(init); });
  if (!files.callers_own) {
    ctx.user_namespace = model::parse_user_namespace(files.uid_map, files.gid_map, files.setgroups,
                                                     "/proc/" + std::to_string(init));
  }
  std::vector<std::string> problems;
  for (const SeizedProcess& sp : procs) {
    // A zombie has no credentials left to restore; its stub is created in the container's
    // namespace and only its exit status matters.
    if (sp.node.zombie || sp.node.host_pid == init) continue;
    task::UserNsId id = task::user_ns_id(sp.node.host_pid);
    if (id == files.id) continue;
    problems.push_back(task_name(sp.node.pid, sp.node.comm) + " is in user namespace user:[" +
                       std::to_string(id.ino) + "], not the container's user:[" +
                       std::to_string(files.id.ino) +
                       "]: nested user namespaces cannot be restored (checkpoint before the "
                       "workload creates one, or keep it out of the container)");
  }
  if (!problems.empty()) refuse(problems);
}

void credentials_to_namespace_view(DumpContext& ctx) {
  if (!ctx.user_namespace) return;  // the dumper's own namespace: the ids are already right
  auto& procs = ctx.seized.processes();
  std::vector<std::string> problems;
  for (size_t i = 0; i < procs.size(); ++i) {
    if (procs[i].node.zombie) continue;
    try {
      model::to_namespace_view(*ctx.user_namespace, ctx.processes[i]);
    } catch (const Error& e) {
      problems.push_back(task_name(procs[i].node.pid, procs[i].node.comm) + ": " + e.message() +
                         " (" + e.hint() + ")");
    }
  }
  if (!problems.empty()) refuse(problems);
}

}  // namespace ckpt::checkpoint
