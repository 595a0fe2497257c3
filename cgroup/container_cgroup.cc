#include "cgroup/container_cgroup.h"

#include <signal.h>

#include <algorithm>
#include <set>

#include "cgroup/limits.h"
#include "cgroup/values.h"
#include "common/error.h"

namespace ckpt::cgroup {
namespace {

using std::chrono::milliseconds;

std::string pid_list(const std::vector<pid_t>& pids) {
  std::string out;
  for (size_t i = 0; i < pids.size() && i < 8; ++i) out += (i ? " " : "") + std::to_string(pids[i]);
  if (pids.size() > 8) out += " ...";
  return out;
}

// How long destroy() retries rmdir on EBUSY: killed tasks leave the cgroup only once they have
// finished exiting, shortly after kill(2) returns.
constexpr milliseconds kRemoveRetry{2000};

}  // namespace

ContainerCgroup::ContainerCgroup(std::shared_ptr<Kernel> kernel, std::vector<Member> members,
                                 size_t freezer_member, FreezerKind kind)
    : kernel_(kernel),
      members_(std::move(members)),
      freezer_(kernel, members_.at(freezer_member).dir, kind) {}

std::vector<std::string> ContainerCgroup::directories() const {
  std::vector<std::string> dirs;
  for (const Member& m : members_) dirs.push_back(m.dir);
  return dirs;
}

// A task must be in every hierarchy: the limits live in some, the freezer and the task lists in
// another. Writing cgroup.procs moves the whole thread group in v1 and v2 alike.
void ContainerCgroup::add_process(pid_t pid) {
  for (const Member& m : members_)
    with_context("add pid " + std::to_string(pid) + " to cgroup " + m.dir,
                 [&] { kernel_->write(m.dir + "/cgroup.procs", std::to_string(pid)); });
}

void ContainerCgroup::apply(const config::Resources& resources) {
  apply_limits(*kernel_, members_, resources);
}

std::vector<pid_t> ContainerCgroup::processes() const {
  return with_context("list processes of cgroup " + freezer_.dir(),
                      [&] { return parse_pids(kernel_->read(freezer_.dir() + "/cgroup.procs")); });
}

std::vector<pid_t> ContainerCgroup::threads() const {
  // v1 has no cgroup.threads; its "tasks" file lists every thread.
  const char* file = freezer_.kind() == FreezerKind::v2 ? "/cgroup.threads" : "/tasks";
  return with_context("list threads of cgroup " + freezer_.dir(),
                      [&] { return parse_pids(kernel_->read(freezer_.dir() + file)); });
}

void ContainerCgroup::kill_all(int sig, milliseconds timeout) {
  if (sig == SIGKILL)
    kill_everything(timeout);
  else
    signal_each_once(sig, timeout);
}

// Tasks may fork while we signal them, so SIGKILL is repeated on whatever is listed until the
// list is empty. cgroup.kill (Linux 5.14) does that atomically in the kernel.
void ContainerCgroup::kill_everything(milliseconds timeout) {
  auto deadline = kernel_->now() + timeout;
  std::string kill_file;
  for (const Member& m : members_)
    if (m.hierarchy.v2 && kernel_->exists(m.dir + "/cgroup.kill"))
      kill_file = m.dir + "/cgroup.kill";
  if (!kill_file.empty()) kernel_->write(kill_file, "1");

  bool thawed = false;
  milliseconds interval(1);
  for (;;) {
    std::vector<pid_t> pids = processes();
    if (pids.empty()) break;
    if (kill_file.empty()) {
      for (pid_t pid : pids) {
        int err = kernel_->send_signal(pid, SIGKILL);
        if (err != 0 && err != ESRCH) throw Error("kill pid " + std::to_string(pid), err);
      }
    }
    // A v1-frozen task keeps its pending SIGKILL until thawed; thawing after queueing the
    // signal means it dies on wake-up without running user code again.
    if (!thawed && freezer_.frozen()) {
      freezer_.thaw(std::max(milliseconds(1),
                             std::chrono::duration_cast<milliseconds>(deadline - kernel_->now())));
      thawed = true;
      continue;
    }
    if (kernel_->now() >= deadline)
      throw Error(
          "cgroup " + freezer_.dir() + " still has tasks " + pid_list(pids) + " after SIGKILL", 0,
          "a task may be in uninterruptible sleep (D state)");
    kernel_->sleep(std::min(interval, milliseconds(20)));
    interval *= 2;
  }
}

void ContainerCgroup::signal_each_once(int sig, milliseconds timeout) {
  auto deadline = kernel_->now() + timeout;
  std::set<pid_t> signalled;
  for (;;) {
    bool any_new = false;
    for (pid_t pid : processes()) {
      if (!signalled.insert(pid).second) continue;
      any_new = true;
      int err = kernel_->send_signal(pid, sig);
      if (err != 0 && err != ESRCH)
        throw Error("send signal " + std::to_string(sig) + " to pid " + std::to_string(pid), err);
    }
    if (!any_new || kernel_->now() >= deadline) return;
  }
}

void ContainerCgroup::destroy() {
  std::optional<Error> first;
  for (const Member& m : members_) {
    auto deadline = kernel_->now() + kRemoveRetry;
    int err = 0;
    while ((err = kernel_->remove_dir(m.dir)) == EBUSY && kernel_->now() < deadline)
      kernel_->sleep(milliseconds(10));
    if (err == 0 || err == ENOENT) {
      // The crun-ckpt parent goes with its last container, so nothing is left on the host.
      // rmdir fails harmlessly while siblings exist; create() retries a mkdir that loses the
      // race with this rmdir.
      kernel_->remove_dir(m.hierarchy.parent_dir());
      continue;
    }
    if (!first)
      first = Error("remove cgroup " + m.dir, err,
                    err == EBUSY ? "tasks are still inside; kill them first" : "");
  }
  if (first) throw *first;
}

}  // namespace ckpt::cgroup
