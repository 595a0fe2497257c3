// `crun-ckpt checkpoint`: lock, guard, freeze, seize, dump, commit, verify, then kill or let
// continue. What a failure or a kill at any point leaves: the container as it was (running, or
// paused if it was paused) and no partial image; after the commit point a complete image.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "cgroup/cgroup.h"
#include "common/error.h"
#include "common/file_lock.h"
#include "common/file_util.h"
#include "config/spec_json.h"
#include "runtime/container/checkpoint_guardian.h"
#include "runtime/container/checkpoint_restore.h"
#include "runtime/container/clocks.h"
#include "runtime/container/launcher.h"
#include "runtime/container/lifecycle.h"
#include "runtime/container/mount_baseline.h"
#include "runtime/container/progress.h"
#include "runtime/container/user_namespace_spec.h"
#include "runtime/model/model_json.h"

namespace ckpt::runtime {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

nlohmann::json image_body(const ContainerState& state, const config::ContainerSpec& spec,
                          const model::Checkpoint& checkpoint, const ContainerClocks& clocks) {
  // The names the container had at the freeze; the spec's only if it had no UTS namespace.
  nlohmann::json container = {
      {"id", state.id},
      {"hostname", checkpoint.uts ? checkpoint.uts->hostname : spec.hostname},
      {"created", state.created},
      {"checkpointed", now_iso8601()}};
  if (checkpoint.uts) container["domainname"] = checkpoint.uts->domainname;
  return {{"container", container},
          {"spec", config::spec_to_json(spec)},
          {"checkpoint", model::to_json(checkpoint)},
          {"clocks", {{"monotonic_ns", clocks.monotonic_ns}, {"boottime_ns", clocks.boottime_ns}}}};
}

// What the committed image occupies: every file in it, manifest included.
uint64_t directory_bytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.is_regular_file()) total += entry.file_size();
  return total;
}

// One checkpoint of a container at a time, refused before anything is frozen and naming the
// one in progress. A flock on ROOT/<id>/checkpoint.lock dies with its holders (this process,
// and its guardian, which keeps it until a recovery is done), so a killed checkpoint never
// blocks the next one for longer than its recovery; the pid inside is only for the message.
UniqueFd lock_checkpoint(const StateStore& store, const std::string& id) {
  std::string path = store.checkpoint_lock_path(id);
  UniqueFd lock = try_lock_file(path);
  if (!lock) {
    std::string holder = "?";
    try {
      holder = std::string(trim(read_file(path)));
    } catch (const Error&) {
    }
    throw Error("cannot checkpoint container '" + id +
                    "': a checkpoint of it is already in progress (crun-ckpt pid " + holder + ")",
                0, "wait for it to finish; a checkpoint that was killed is undone within seconds");
  }
  std::string me = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock.get(), 0) < 0 || ::pwrite(lock.get(), me.data(), me.size(), 0) < 0)
    throw sys_error("write " + path);
  return lock;
}

// Puts a paused container's freezer back after the dump thawed it to run injected syscalls.
// Two are used: one declared after the SeizedContainer, which on an error runs before the
// tasks are detached and, on the v2 freezer, freezes them while still in ptrace-stop (counted
// as frozen: kernel/signal.c ptrace_stop), so the detach lands them in the freezer trap without
// running user code; and one declared before it, which runs after the detach and also covers
// the v1 freezer, where a detach of a frozen tracee is not relied upon.
class RefreezeGuard {
 public:
  RefreezeGuard(cgroup::Cgroup& cg, bool needed) : cg_(&cg), needed_(needed) {}
  RefreezeGuard(const RefreezeGuard&) = delete;
  RefreezeGuard& operator=(const RefreezeGuard&) = delete;
  ~RefreezeGuard() {
    try {
      apply();
    } catch (...) {
      // An error path: the original error is reported; the guardian cannot help either.
    }
  }
  void apply() {
    if (needed_) cg_->freeze();
    needed_ = false;
  }
  void disarm() { needed_ = false; }

 private:
  cgroup::Cgroup* cg_;
  bool needed_;
};

// FOR TESTS ONLY: flips one byte in the middle of the largest file of a committed image, the
// damage a bad disk or a concurrent writer could do, so the verification has something to find.
void corrupt_for_test(const std::string& dir) {
  std::string victim;
  uintmax_t largest = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.is_regular_file() && entry.file_size() > largest) {
      largest = entry.file_size();
      victim = entry.path();
    }
  UniqueFd fd = open_file(victim, O_RDWR);
  char byte = 0;
  off_t at = static_cast<off_t>(largest / 2);
  if (::pread(fd.get(), &byte, 1, at) != 1) throw sys_error("read " + victim);
  byte = static_cast<char>(byte ^ 0x20);
  if (::pwrite(fd.get(), &byte, 1, at) != 1) throw sys_error("write " + victim);
}

// Reads every file of the committed image back against its checksum. A mismatch withdraws the
// image (it is not what was dumped) and fails the checkpoint before anything is stopped.
void verify_or_withdraw(image::ImageWriter& writer) {
  try {
    image::ImageReader(writer.dir()).verify_all();
  } catch (const Error& e) {
    try {
      writer.withdraw();
    } catch (const Error&) {
      // Reported below either way; a leftover is under a hidden partial name, swept later.
    }
    Error cause = e;
    cause.with_hint("");  // the reader's advice is for restores; ours follows
    throw Error(std::string("the image failed verification after it was written, so it was "
                            "removed and the container left running: ") +
                    cause.what(),
                0, "check the file system of " + writer.dir() + ", then checkpoint again");
  }
}

}  // namespace

CheckpointResult checkpoint_container(const StateStore& store, const std::string& id,
                                      const CheckpointOptions& options) {
  ContainerState state = store.load(id);
  Status status = current_status(store, state);
  if (status != Status::running && status != Status::paused)
    throw Error("cannot checkpoint container '" + id + "': it is " + status_name(status));
  UniqueFd lock = lock_checkpoint(store, id);
  config::ContainerSpec spec = store.load_spec(id);
  auto cg = cgroup::open(cgroup::detect_layout(), id);
  // A checkpoint leaves the freezer as it found it: a paused container stays paused (with
  // --leave-running, and after a failure or a kill), a running one runs.
  const bool was_paused = cg->frozen();

  ProgressLine progress(options.quiet);
  checkpoint::DumpOptions dump_options;
  dump_options.compression = options.compression;
  dump_options.fail_at_stage = options.fail_at_stage;
  for (const auto& [dev, ino] : state.stdio_files)
    dump_options.external_stdio.push_back({static_cast<dev_t>(dev), static_cast<ino_t>(ino)});
  dump_options.initial_mounts = with_context("checkpoint '" + id + "'", [&] {
    auto table = load_initial_mounts(store.dir(id));
    if (!table)
      throw Error(store.dir(id) +
                      "/mounts.json, the mount table the container started with, is "
                      "missing, so mounts changed at run time cannot be detected",
                  0, "the container was started by an older crun-ckpt; restart it");
    return table;
  });
  dump_options.progress = [&progress](checkpoint::Stage stage, uint64_t bytes) {
    progress.update(std::string("checkpoint ") + checkpoint::stage_name(stage), bytes);
  };

  CheckpointResult result;
  result.image_path = options.image_path;
  auto start = Clock::now();
  with_context("checkpoint '" + id + "'", [&] {
    // Forked before anything changes, so there is no instant at which a kill is not recovered.
    CheckpointGuardian guardian(GuardedCheckpoint{
        .store = &store,
        .id = id,
        .spec = &spec,
        .cgroup = cg.get(),
        .was_frozen = was_paused,
        .image_path = options.image_path,
        .monitor_pid = state.detached ? state.monitor_pid : 0,
        .checkpoint_lock = lock.get(),
    });
    // The writer exists before the freeze so a bad --image-path (not empty, a symlink, another
    // checkpoint writing there) costs the container nothing.
    image::ImageWriter writer(options.image_path);
    auto frozen_at = Clock::now();
    RefreezeGuard refreeze_after_detach(*cg, was_paused);
    checkpoint::SeizedContainer seized = checkpoint::seize_container(*cg, state.pid, dump_options);
    RefreezeGuard refreeze_before_detach(*cg,
                                         was_paused && cg->freezer() == cgroup::FreezerKind::v2);
    // Clocks are read while every task is stopped: the restore continues them from here.
    ContainerClocks clocks = read_container_clocks(state.pid);
    model::Checkpoint cp = checkpoint::dump_container(seized, writer, dump_options);
    check_spec_recreates_user_namespace(spec, cp.user_namespace);
    writer.commit(image_body(state, spec, cp, clocks));
    if (options.test_corrupt_image) corrupt_for_test(options.image_path);
    result.image_bytes = directory_bytes(options.image_path);
    result.processes = cp.processes.size();
    if (options.leave_running) {
      refreeze_before_detach.apply();
      seized.detach();
      refreeze_after_detach.apply();
      result.frozen_seconds = seconds_since(frozen_at);
      // The original runs on whatever this finds; a bad image must still not be left behind.
      verify_or_withdraw(writer);
      return;
    }
    // Never stop the original before the image is complete, verified and durable (commit
    // fsynced it): a failed verification withdraws the image and the tasks are detached.
    verify_or_withdraw(writer);
    guardian.stopping();
    refreeze_before_detach.disarm();
    refreeze_after_detach.disarm();
    seized.kill();
    result.frozen_seconds = seconds_since(frozen_at);
    progress.clear();
    // The image now holds the container; free its name, cgroup and network for the restore.
    teardown(id, spec, store.root());
    if (state.detached && state.monitor_pid > 0) wait_for_process_exit(state.monitor_pid);
    store.remove(id);
  });
  progress.clear();
  result.total_seconds = seconds_since(start);
  return result;
}

}  // namespace ckpt::runtime
