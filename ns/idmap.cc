// write_id_maps: the uid/gid maps of a child created with CLONE_NEWUSER, written by the parent
// (user_namespaces(7): each map can be written once, by a process with CAP_SETUID/CAP_SETGID
// in the parent namespace).
#include <string>

#include "common/error.h"
#include "common/file_util.h"
#include "ns/namespaces.h"

namespace ckpt::ns {
namespace {

std::string map_text(const std::vector<config::IdMapping>& mappings) {
  std::string text;
  for (const auto& m : mappings) {
    text += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " +
            std::to_string(m.size) + "\n";
  }
  return text;
}

}  // namespace

bool setgroups_allowed(const config::ContainerSpec& spec) {
  return !spec.has(config::Namespace::user) || !spec.process.user.additional_gids.empty();
}

void write_id_maps(pid_t pid, const config::ContainerSpec& spec) {
  if (!spec.has(config::Namespace::user)) return;
  std::string proc = "/proc/" + std::to_string(pid);
  with_context("write the id maps of pid " + std::to_string(pid), [&] {
    if (spec.uid_mappings.empty() || spec.gid_mappings.empty())
      throw Error("a user namespace needs uid_mappings and gid_mappings", EINVAL,
                  "add both to the spec, e.g. container_id 0, host_id 100000, size 65536");
    // setgroups=deny keeps the container from dropping supplementary groups the maps would
    // otherwise let it shed (a group used to deny access). It also forbids setgroups(2), which
    // the container needs to take additional_gids: keep it allowed then (root writing gid_map
    // does not need the deny).
    if (!setgroups_allowed(spec)) write_existing(proc + "/setgroups", "deny");
    write_existing(proc + "/uid_map", map_text(spec.uid_mappings));
    write_existing(proc + "/gid_map", map_text(spec.gid_mappings));
  });
}

}  // namespace ckpt::ns
