// restore_tree(): the restore of a process tree read as a list of stages. The stubs already
// exist (run_stub) in a container whose user namespace is checked to be the dumped one; the
// open file descriptions are made once for all (file_table.h); then each stub is seized and
// turned into its dumped process:
//   code area -> fd channel -> address space (vdso, unmap, map, fill) -> mm fields -> files ->
//   signal actions -> process state -> pending signals -> threads (created by the leader, each
//   given its own state, seccomp filters, credentials and registers) -> timers -> leader's seccomp
//   filters -> leader's credentials (the last privileged step) -> leader's registers and mask
//   (last, from the final syscall-exit stop, which also unmaps the code area).
// Every task stays stopped and attached until RestoredTree::resume().
#include <signal.h>
#include <sys/wait.h>

#include <map>

#include "common/error.h"
#include "common/file_util.h"
#include "common/parse_number.h"
#include "runtime/restore/fd_channel.h"
#include "runtime/restore/file_table.h"
#include "runtime/restore/restore.h"
#include "runtime/restore/restore_context.h"
#include "runtime/task/proc.h"
#include "runtime/task/registers.h"

namespace ckpt::restore {

namespace {

// Container pid -> host pid for the stub tree under `init` (via /proc/PID/task/PID/children).
std::map<pid_t, pid_t> find_stubs(pid_t init) {
  std::map<pid_t, pid_t> out;
  std::vector<pid_t> todo = {init};
  while (!todo.empty()) {
    pid_t host = todo.back();
    todo.pop_back();
    out[task::read_proc_status(host).innermost_pid()] = host;
    std::string path =
        "/proc/" + std::to_string(host) + "/task/" + std::to_string(host) + "/children";
    std::string text = read_file(path);
    for (pid_t child : with_context(path, [&] { return parse_numbers<pid_t>(text, "child pid"); }))
      todo.push_back(child);
  }
  return out;
}

void check_cpu(const model::Checkpoint& checkpoint) {
  uint64_t host = task::xsave_features();
  if ((checkpoint.xsave_features & ~host) != 0) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), "image needs xsave features %#llx, this CPU has %#llx",
                  static_cast<unsigned long long>(checkpoint.xsave_features),
                  static_cast<unsigned long long>(host));
    throw Error(buf).with_hint("restore on a CPU with at least the dumping host's features");
  }
}

void restore_process(const model::Checkpoint& checkpoint, const model::Process& process,
                     RestoredTree::Task& t, const ImageSource& image,
                     const RestoreOptions& options, const FileTable& files) {
  task::RemoteSyscaller remote(t.attachment);
  ProcessContext ctx{process, t.host_pid, t.attachment, remote, task::TaskMemory(t.host_pid),
                     image};
  ctx.shared_memory_fds = &options.shared_memory_fds;
  ctx.files = &files;
  if (checkpoint.user_namespace) ctx.user_namespace = &*checkpoint.user_namespace;
  install_code_area(ctx);
  FdChannel channel(ctx, highest_fd(process));
  ctx.channel = &channel;
  replace_address_space(ctx);
  restore_mm(ctx);
  restore_files(ctx);
  restore_sigactions(ctx);
  restore_process_state(ctx);
  restore_pending_signals(ctx);
  t.threads = restore_threads(ctx, options.suspend_seccomp);
  restore_timers(ctx);
  restore_seccomp(ctx, process.threads.at(0));
  restore_credentials(ctx);
  restore_registers(ctx);
}

}  // namespace

RestoredTree::RestoredTree(pid_t init_host_pid, std::vector<Task> tasks)
    : init_(init_host_pid), tasks_(std::move(tasks)) {}

RestoredTree::RestoredTree(RestoredTree&& other) noexcept
    : init_(other.init_), tasks_(std::move(other.tasks_)), done_(other.done_) {
  other.done_ = true;
  other.tasks_.clear();
}

RestoredTree::~RestoredTree() {
  if (!done_) kill_all();
}

pid_t RestoredTree::host_pid(pid_t container_pid) const {
  for (const Task& t : tasks_) {
    if (t.pid == container_pid) return t.host_pid;
  }
  throw Error("pid " + std::to_string(container_pid) + " is not part of the restored tree");
}

void RestoredTree::resume() {
  // Children first: by the time init runs again, everything below it is live.
  // Within a process, the other threads first: the leader's detach is the last word.
  for (auto it = tasks_.rbegin(); it != tasks_.rend(); ++it) {
    for (task::SeizedTask& thread : it->threads) thread.detach();
    it->attachment.detach();
  }
  done_ = true;
}

void RestoredTree::release() {
  for (Task& t : tasks_) {
    for (task::SeizedTask& thread : t.threads) thread.release();
    t.attachment.release();
  }
  done_ = true;
}

void RestoredTree::kill_all() noexcept {
  // Killing init kills the namespace; each traced task's death must be collected by us as its
  // tracer before its parent (or init) can reap it.
  // Children first: a dying init waits for its children, and those are traced by us.
  if (init_ > 0) kill(init_, SIGKILL);
  auto kill_and_reap = [](task::SeizedTask& attachment) {
    pid_t tid = attachment.release();
    if (tid > 0) {
      kill(tid, SIGKILL);
      while (waitpid(tid, nullptr, __WALL) < 0 && errno == EINTR) {
      }
    }
  };
  for (auto it = tasks_.rbegin(); it != tasks_.rend(); ++it) {
    // A traced thread's exit is reported to us like the leader's: collect each one.
    for (task::SeizedTask& thread : it->threads) kill_and_reap(thread);
    kill_and_reap(it->attachment);
  }
  // Init is usually our child (the caller cloned it); if not, the waitpid fails harmlessly.
  if (init_ > 0) {
    while (waitpid(init_, nullptr, __WALL) < 0 && errno == EINTR) {
    }
  }
  done_ = true;
}

RestoredTree restore_tree(pid_t stub_init_host_pid, const model::Checkpoint& checkpoint,
                          const ImageSource& image, const RestoreOptions& options) {
  RestorePlan plan = plan_restore(checkpoint);
  check_cpu(checkpoint);
  if (options.stub_control_fd >= 0) wait_for_stubs(options.stub_control_fd);
  check_user_namespace(stub_init_host_pid, checkpoint.user_namespace);

  std::map<pid_t, pid_t> hosts = find_stubs(stub_init_host_pid);
  std::vector<RestoredTree::Task> tasks;
  task::SeizeOptions seize{
      .trace_clone = false, .suspend_seccomp = options.suspend_seccomp, .exit_kill = true};
  // Seize in plan order (parents first) so RestoredTree owns every task from here on.
  for (const StubSpec& s : plan.processes) {
    auto host = hosts.find(s.pid);
    if (host == hosts.end()) {
      throw Error("restore: stub for pid " + std::to_string(s.pid) + " is missing");
    }
    // A zombie's stub has exited already (run_stub reports ready only then): nothing to seize
    // or restore; its parent reaps it.
    if (s.zombie) continue;
    tasks.push_back({s.pid, host->second, task::SeizedTask(host->second, seize)});
  }
  RestoredTree tree(stub_init_host_pid, std::move(tasks));
  for (RestoredTree::Task& t : tree.tasks()) {
    t.attachment.interrupt();
  }
  // Every open file description, made once before any task is rebuilt (file_table.h). The
  // tree owns the stubs by now: a failure here kills them too.
  FileTable files(checkpoint, image, stub_init_host_pid);
  std::map<pid_t, const model::Process*> by_pid;
  for (const model::Process& p : checkpoint.processes) by_pid[p.pid] = &p;
  for (RestoredTree::Task& t : tree.tasks()) {
    with_context("restore pid " + std::to_string(t.pid),
                  [&] { restore_process(checkpoint, *by_pid.at(t.pid), t, image, options, files); });
  }
  return tree;
}

RestoredTree restore_tree(pid_t stub_init_host_pid, const model::Checkpoint& checkpoint,
                          const image::ImageReader& image, const RestoreOptions& options) {
  ImageReaderSource source(image);
  return restore_tree(stub_init_host_pid, checkpoint, source, options);
}

}  // namespace ckpt::restore
