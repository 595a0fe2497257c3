// `crun-ckpt restore`: a new container from an image alone. The container is launched as for
// `run` (cgroup, namespaces, network, mounts from the image's spec), but its first process
// becomes the restore stub that forks the original pids; the restore engine then turns every
// stub into its dumped process. All tasks wait stopped, the cgroup is frozen, they are released
// and the cgroup thawed once: the container resumes at one instant.
#include <fcntl.h>
#include <unistd.h>

#include "common/error.h"
#include "config/parse_values.h"
#include "config/spec_json.h"
#include "image/image.h"
#include "runtime/container/checkpoint_restore.h"
#include "runtime/container/clocks.h"
#include "runtime/container/launcher.h"
#include "runtime/container/mount_baseline.h"
#include "runtime/container/progress.h"
#include "runtime/container/start.h"
#include "runtime/container/supervise.h"
#include "runtime/model/model_json.h"
#include "runtime/restore/restore.h"
#include "runtime/restore/shared_memory.h"
#include "runtime/restore/tmpfs_restore.h"

namespace ckpt::runtime {

namespace {

struct LoadedImage {
  image::ImageReader reader;
  config::ContainerSpec spec;
  model::Checkpoint checkpoint;
  restore::RestorePlan plan;
  ContainerClocks clocks;

  explicit LoadedImage(const std::string& dir) : reader(dir) {
    reader.check_host_arch();
    const nlohmann::json& body = reader.body();
    with_context("image " + dir, [&] {
      try {
        spec = config::spec_from_json(body.at("spec"));
        checkpoint = model::checkpoint_from_json(body.at("checkpoint"));
        // get<long long>() would wrap a value above INT64_MAX into a negative offset.
        auto clock = [&](const char* key) {
          const nlohmann::json& v = body.at("clocks").at(key);
          if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > INT64_MAX))
            throw Error(std::string("manifest.json body: clocks.") + key + " " + v.dump() +
                            " is not a signed 64-bit integer",
                        0, "the image is damaged or from an incompatible crun-ckpt");
          return v.get<long long>();
        };
        clocks.monotonic_ns = clock("monotonic_ns");
        clocks.boottime_ns = clock("boottime_ns");
      } catch (const nlohmann::json::exception& e) {
        throw Error(std::string("manifest.json body is malformed: ") + e.what(), 0,
                    "the image is damaged or from an incompatible crun-ckpt");
      }
      plan = restore::plan_restore(checkpoint);
    });
  }
};

// Launches the container with the stub as its init and restores every task into it. Returns
// the launched container with all tasks running (the cgroup was frozen around the release).
LaunchedContainer launch_restored(const LoadedImage& image, const config::ContainerSpec& spec,
                                  LaunchOptions options, ProgressLine& progress, int creator_lock) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) throw sys_error("pipe");
  UniqueFd control_read(fds[0]), control_write(fds[1]);
  int stub_fd = control_write.get();
  const restore::RestorePlan& plan = image.plan;
  options.init_main = [&plan, stub_fd, creator_lock]() -> int {
    // The stubs fork without exec: an inherited creator lock would keep the container
    // `creating` for as long as the restored tree lives.
    ::close(creator_lock);
    restore::run_stub(plan, stub_fd);
  };
  if (spec.has(config::Namespace::time)) options.time_offsets = offsets_to_continue(image.clocks);
  if (spec.has(config::Namespace::uts) && image.checkpoint.uts)
    options.uts = ns::UtsNames{image.checkpoint.uts->hostname, image.checkpoint.uts->domainname};
  // Before launch: the stubs find these objects as fds inherited from us (shared_memory.h).
  restore::ImageReaderSource source(image.reader);
  restore::SharedMemoryObjects shared(image.checkpoint, source);
  progress.update("restore: creating the container", 0);
  LaunchedContainer container = launch(spec, options);
  control_write.reset();  // so a dead stub tree shows as EOF
  // The tasks' fds and file mappings reopen files in these mounts: fill them first.
  progress.update("restore: tmpfs contents", 0);
  restore::restore_tmpfs_mounts(container.pid(), image.checkpoint.tmpfs_mounts, source);

  restore::RestoreOptions restore_options;
  restore_options.stub_control_fd = control_read.get();
  // Filters restored into a task must not block the injected syscalls that follow them.
  restore_options.suspend_seccomp = true;
  restore_options.shared_memory_fds = shared.fds();
  progress.update("restore: rebuilding tasks", 0);
  restore::RestoredTree tree =
      restore::restore_tree(container.pid(), image.checkpoint, image.reader, restore_options);
  container.cgroup().freeze();
  tree.resume();
  container.cgroup().thaw();
  return container;
}

}  // namespace

int restore_container(const StateStore& store, const RestoreOptions& options) {
  LoadedImage image(options.image_path);
  config::ContainerSpec spec = image.spec;
  if (!options.name.empty()) {
    with_context("--name", [&] { config::check_container_id(options.name); });
    spec.name = options.name;
  }
  LaunchOptions launch_options{.id = spec.name,
                               .root = store.root(),
                               .start_kind = ns::StartKind::restore,
                               .network_detached = options.network_detached};
  store.refuse_existing(spec.name);  // before the network check, which would name it too
  preflight(spec, launch_options);
  RunOptions run_options{
      .detach = options.detach, .spec_path = options.image_path, .pid_file = options.pid_file};
  // From here a kill leaves a record `list` shows and `delete -f` removes (state.h).
  UniqueFd creator_lock = store.create(creating_state(spec, run_options), spec);
  StateDirGuard guard(store, spec.name);
  int code = with_context("restore '" + spec.name + "' from " + options.image_path, [&] {
    if (options.detach) {
      int status = start_detached(store, spec.name, creator_lock.get(), [&] {
        ProgressLine quiet(true);
        LaunchedContainer container =
            launch_restored(image, spec, launch_options, quiet, creator_lock.get());
        save_initial_mounts(store.dir(spec.name), container.initial_mountinfo());
        store.save(initial_state(spec, run_options, container, true));
        write_pid_file(options.pid_file, container.pid());
        container.release();
        return container.pid();
      });
      guard.keep();
      return status;
    }
    ProgressLine progress(options.quiet);
    ForwardedSignals signals;
    LaunchedContainer container =
        launch_restored(image, spec, launch_options, progress, creator_lock.get());
    progress.clear();
    save_initial_mounts(store.dir(spec.name), container.initial_mountinfo());
    store.save(initial_state(spec, run_options, container, false));
    creator_lock.reset();  // restored: the record names the init from now on
    write_pid_file(options.pid_file, container.pid());
    int status = signals.wait_forwarding(container.pid());
    container.mark_reaped();
    return exit_code_of(status);
  });
  return code;
}

}  // namespace ckpt::runtime
