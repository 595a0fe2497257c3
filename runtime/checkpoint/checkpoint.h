// The checkpoint engine: freezes a container, seizes every task with ptrace, and dumps the
// tasks into an image stage by stage (DESIGN.md "The checkpoint pipeline").
//
// Use:
//   SeizedContainer seized = seize_container(cgroup, init_host_pid);   // freeze, seize, thaw
//   image::ImageWriter writer(dir);
//   model::Checkpoint cp = dump_container(seized, writer, options);
//   writer.commit(body_containing(model::to_json(cp)));
//   seized.kill();    // or let `seized` go out of scope: every task is detached and continues
//
// Failure is harmless by construction: seize_container() thaws and detaches on any error, and
// dump_container() only reads from the tasks (injected syscalls put back what they change), so
// an exception leaves the tasks stopped under ptrace until the SeizedContainer is destroyed,
// which detaches them and the container just continues. The caller's ImageWriter, destroyed
// uncommitted, removes its temporary directory: no image is left.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/image.h"
#include "runtime/checkpoint/fd_facts.h"
#include "runtime/checkpoint/mount_table.h"
#include "runtime/checkpoint/tree.h"
#include "runtime/model/task_model.h"
#include "runtime/task/ptrace_attachment.h"

namespace ckpt::cgroup {
class Cgroup;
}

namespace ckpt::checkpoint {

// The stages, in order. seize_container() runs `seize`; dump_container() the others.
enum class Stage {
  seize,        // freeze, enumerate, build the tree, seize every thread, thaw
  classify,     // every fd and every mapping of every task, every tmpfs file: refuse before
                // writing anything
  namespaces,   // UTS names; tasks' namespaces, mounts and IPC objects: refuse before writing
  filesystems,  // the contents of the container's tmpfs mounts into tmpfs-<n>
  task_state,   // registers, signals, creds, rlimits, mm, injected queries, per task
  memory,       // private pages into pages-<pid>, shared anonymous objects into shm-<id>
  assemble,     // the model::Checkpoint in restore order
};
const char* stage_name(Stage stage);

struct DumpOptions {
  image::CompressionSpec compression;
  // Called at the start of each stage (bytes = 0) and as memory is written (bytes so far).
  std::function<void(Stage stage, uint64_t bytes)> progress;
  // FOR TESTS ONLY: throw an injected ckpt::Error when this stage starts (for `seize`: after
  // every thread is seized, while the cgroup is still frozen, the worst moment to fail), so a
  // test can prove each failure leaves the container running and no image behind.
  std::optional<Stage> fail_at_stage;
  // Regular files the runtime gave the container as stdio (runtime/files/external_file.cc).
  std::vector<FileId> external_stdio;
  // The mount table the container started with (recorded at run and restore): the `namespaces`
  // stage refuses whatever changed since. Required when the container has its own mount
  // namespace.
  std::optional<MountTable> initial_mounts;
};

// One process of the container with every thread seized (threads[i] is node.host_tids[i]);
// a zombie (node.zombie) has no threads seized and is skipped by every stage but the tree.
struct SeizedProcess {
  TreeNode node;
  std::vector<task::SeizedTask> threads;
};

class SeizedContainer {
 public:
  SeizedContainer(cgroup::Cgroup& cgroup, pid_t init_host_pid,
                  std::vector<SeizedProcess> processes);
  SeizedContainer(SeizedContainer&&) = default;
  SeizedContainer& operator=(SeizedContainer&&) = delete;
  SeizedContainer(const SeizedContainer&) = delete;
  // Detaches every thread: the container continues as if nothing happened.
  ~SeizedContainer() = default;

  cgroup::Cgroup& cgroup() { return *cgroup_; }
  pid_t init_host_pid() const { return init_host_pid_; }
  // Parents before children; processes()[0] is the container's init.
  std::vector<SeizedProcess>& processes() { return processes_; }

  // Detaches every thread now (throws on the first failure; the rest detach in the destructor).
  void detach();
  // Kills every task (cgroup SIGKILL) and collects their exits as tracer so none stays a
  // zombie on our account. After this the container has no tasks.
  void kill();

 private:
  cgroup::Cgroup* cgroup_;
  pid_t init_host_pid_;
  std::vector<SeizedProcess> processes_;
};

// Freezes the cgroup, enumerates and checks its tasks (all in init's pid namespace, one tree),
// seizes and interrupts every thread, then thaws: the tasks end in ptrace-stop. On any error
// the cgroup is thawed and every thread detached before the exception leaves.
SeizedContainer seize_container(cgroup::Cgroup& cgroup, pid_t init_host_pid,
                                const DumpOptions& options = {});

// Dumps every seized task: metadata into the returned model, bulk data into `writer` (files
// regs-<tid>, xstate-<tid>; streams pages-<pid>, shm-<id>, tmpfs-<n>). Does not commit. Refusals
// are one line: "cannot checkpoint: pid 7 (python3) fd 5: socket:[12345] (unix sockets are ...)".
model::Checkpoint dump_container(SeizedContainer& seized, image::ImageWriter& writer,
                                 const DumpOptions& options = {});

}  // namespace ckpt::checkpoint
