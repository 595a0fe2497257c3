#include "runtime/model/id_map.h"

#include <algorithm>
#include <sstream>

#include "common/error.h"

namespace ckpt::model {

std::vector<IdRange> parse_id_map(const std::string& text, const std::string& what) {
  return with_context(what, [&] { return IdMap::parse(text).ranges(); });
}

UserNamespace parse_user_namespace(const std::string& uid_map, const std::string& gid_map,
                                   const std::string& setgroups, const std::string& where) {
  UserNamespace ns;
  ns.uid_map = parse_id_map(uid_map, where + "/uid_map");
  ns.gid_map = parse_id_map(gid_map, where + "/gid_map");
  std::string mode;
  std::istringstream(setgroups) >> mode;
  if (mode != "allow" && mode != "deny")
    throw Error(where + "/setgroups: '" + setgroups + "' is neither allow nor deny");
  ns.setgroups_allowed = mode == "allow";
  return ns;
}

std::string id_map_text(const std::vector<IdRange>& map) {
  if (map.empty()) return "(empty)";
  std::string out;
  for (const IdRange& r : map) {
    if (!out.empty()) out += ", ";
    out +=
        std::to_string(r.inside) + " " + std::to_string(r.outside) + " " + std::to_string(r.count);
  }
  return out;
}

std::optional<uint32_t> to_inside(const std::vector<IdRange>& map, uint32_t outside) {
  return IdMap(map).to_inside(outside);
}

SplitGroups split_groups(const std::vector<IdRange>& gid_map,
                         const std::vector<uint32_t>& outside) {
  SplitGroups out;
  for (uint32_t g : outside) {
    if (auto inside = to_inside(gid_map, g))
      out.mapped.push_back(*inside);
    else
      out.unmapped.push_back(g);
  }
  // A map need not be monotonic across its lines, so the inside ids are sorted anew.
  std::sort(out.mapped.begin(), out.mapped.end());
  std::sort(out.unmapped.begin(), out.unmapped.end());
  return out;
}

void to_namespace_view(const UserNamespace& ns, Process& p) {
  static constexpr const char* kWhich[4] = {"real", "effective", "saved", "filesystem"};
  auto translate = [](const std::vector<IdRange>& map, uint32_t(&ids)[4], const char* kind) {
    for (int i = 0; i < 4; ++i) {
      std::optional<uint32_t> inside = to_inside(map, ids[i]);
      if (!inside) {
        throw Error(std::string("its ") + kWhich[i] + " " + kind + " " + std::to_string(ids[i]) +
                        " (host) is not mapped by the container's " + kind + "_map (" +
                        id_map_text(map) + "): a restore could not give it back",
                    0, "checkpoint processes that run as ids the container maps");
      }
      ids[i] = *inside;
    }
  };
  translate(ns.uid_map, p.uid, "uid");
  translate(ns.gid_map, p.gid, "gid");
  SplitGroups groups = split_groups(ns.gid_map, p.groups);
  p.groups = std::move(groups.mapped);
  p.unmapped_groups = std::move(groups.unmapped);
}

}  // namespace ckpt::model
