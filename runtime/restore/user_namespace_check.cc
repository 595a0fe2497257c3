// The restored container's user namespace must be the dumped one. The image's credentials are
// in the namespace's view (checkpoint/user_namespace_dump.cc): in another mapping the same
// inside ids would be other host ids, files the restored processes create would get other
// owners, and a setgroups mode other than the dumped one changes what they may do. The
// container is created from the spec inside the image (--name keeps its maps), so this only
// fails for an image whose spec does not say what its processes ran in.
#include "common/error.h"
#include "runtime/model/id_map.h"
#include "runtime/restore/restore_context.h"
#include "runtime/task/user_ns.h"

namespace ckpt::restore {

void check_user_namespace(pid_t init_host_pid, const std::optional<model::UserNamespace>& dumped) {
  task::UserNsFiles files = with_context("user namespace of the restored container",
                                         [&] { return task::read_user_ns(init_host_pid); });
  const char* hint =
      "restore from an image whose spec has the namespaces and id mappings the "
      "container was checkpointed with";
  if (files.callers_own) {
    if (!dumped) return;
    throw Error("the image was dumped in a user namespace (uid_map " +
                    model::id_map_text(dumped->uid_map) + ") but the restored container has none",
                0, hint);
  }
  std::string where = "/proc/" + std::to_string(init_host_pid);
  model::UserNamespace now =
      model::parse_user_namespace(files.uid_map, files.gid_map, files.setgroups, where);
  if (!dumped) {
    throw Error(
        "the image was dumped without a user namespace but the restored container has one "
        "(uid_map " +
            model::id_map_text(now.uid_map) + ")",
        0, hint);
  }
  auto compare = [&](const std::vector<model::IdRange>& got,
                     const std::vector<model::IdRange>& want, const char* name) {
    if (got == want) return;
    throw Error(std::string("the restored container's ") + name + " (" + model::id_map_text(got) +
                    ") differs from the image's (" + model::id_map_text(want) + ")",
                0, hint);
  };
  compare(now.uid_map, dumped->uid_map, "uid_map");
  compare(now.gid_map, dumped->gid_map, "gid_map");
  if (now.setgroups_allowed != dumped->setgroups_allowed) {
    auto mode = [](bool allowed) { return allowed ? "allow" : "deny"; };
    throw Error(std::string("the restored container's setgroups is ") +
                    mode(now.setgroups_allowed) + ", the image's " +
                    mode(dumped->setgroups_allowed),
                0, hint);
  }
}

}  // namespace ckpt::restore
