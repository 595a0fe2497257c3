#include "runtime/container/user_namespace_spec.h"

#include "common/error.h"
#include "ns/namespaces.h"
#include "runtime/model/id_map.h"

namespace ckpt::runtime {

namespace {

std::vector<model::IdRange> ranges(const std::vector<config::IdMapping>& mappings) {
  std::vector<model::IdRange> out;
  for (const auto& m : mappings) out.push_back({m.container_id, m.host_id, m.size});
  return out;
}

std::string describe(const std::optional<model::UserNamespace>& ns) {
  if (!ns) return "none";
  return "uid_map " + model::id_map_text(ns->uid_map) + "; gid_map " +
         model::id_map_text(ns->gid_map) + "; setgroups " +
         (ns->setgroups_allowed ? "allow" : "deny");
}

}  // namespace

std::optional<model::UserNamespace> user_namespace_of(const config::ContainerSpec& spec) {
  if (!spec.has(config::Namespace::user)) return std::nullopt;
  return model::UserNamespace{ranges(spec.uid_mappings), ranges(spec.gid_mappings),
                              ns::setgroups_allowed(spec)};
}

void check_spec_recreates_user_namespace(const config::ContainerSpec& spec,
                                         const std::optional<model::UserNamespace>& dumped) {
  std::optional<model::UserNamespace> expected = user_namespace_of(spec);
  if (expected == dumped) return;
  throw Error("cannot checkpoint: the container's user namespace (" + describe(dumped) +
                  ") is not the one its spec creates (" + describe(expected) +
                  "), so a restore could not recreate it",
              0, "restart the container from its spec, then checkpoint it");
}

}  // namespace ckpt::runtime
