// Translating credentials between a user namespace and the namespace that reads its maps
// (user_namespaces(7)). The kernel shows /proc/PID/status ids in the READER's namespace, so
// the dumper, on the host, sees host ids; a restore sets ids from inside the container's
// namespace, where only the inside ids mean anything. These functions are pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/model/task_model.h"

namespace ckpt::model {

// Parses the text of /proc/PID/uid_map or gid_map ("inside outside count" per line, columns
// padded with spaces). Throws one line naming `what` (e.g. "/proc/7/uid_map") and the line.
std::vector<IdRange> parse_id_map(const std::string& text, const std::string& what);

// The texts of /proc/PID/uid_map, gid_map and setgroups ("allow" or "deny") as one value;
// `where` ("/proc/7") names the files in errors.
UserNamespace parse_user_namespace(const std::string& uid_map, const std::string& gid_map,
                                   const std::string& setgroups, const std::string& where);

// "0 100000 65536, 1000 210000 10": a map as messages show it.
std::string id_map_text(const std::vector<IdRange>& map);

// The inside id that `outside` is in `map`; nullopt when the map does not cover it.
std::optional<uint32_t> to_inside(const std::vector<IdRange>& map, uint32_t outside);

// Supplementary groups (outside view) split by `gid_map`: the ones it maps, as inside ids, and
// the ones it does not, kept as outside ids. Both sorted, as the kernel keeps groups.
struct SplitGroups {
  std::vector<uint32_t> mapped;    // inside ids
  std::vector<uint32_t> unmapped;  // outside ids

  bool operator==(const SplitGroups&) const = default;
};
SplitGroups split_groups(const std::vector<IdRange>& gid_map, const std::vector<uint32_t>& outside);

// Turns the host-view credentials of `p` (as parse_status_fields read them) into the view of
// the user namespace `ns`: uid[4] and gid[4] through its maps, groups into groups and
// unmapped_groups. Throws one line naming the id when a uid or gid is not mapped: such a
// process cannot be given its credentials from inside the namespace.
void to_namespace_view(const UserNamespace& ns, Process& p);

}  // namespace ckpt::model
