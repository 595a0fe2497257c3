// A task's user-namespace id maps (/proc/PID/uid_map, gid_map; user_namespaces(7)): which ids
// inside its namespace are which ids outside. The tmpfs archive stores owners as the
// container sees them and the restore turns them back into host ids with these. Outside a
// user namespace the map is "0 0 4294967295", the identity.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ckpt::task {

struct IdRange {
  uint32_t inside = 0, outside = 0, count = 0;
  bool operator==(const IdRange&) const = default;
};

class IdMap {
 public:
  IdMap() = default;
  explicit IdMap(std::vector<IdRange> ranges) : ranges_(std::move(ranges)) {}
  // Parses the text of a uid_map/gid_map file (lines "INSIDE OUTSIDE COUNT"); throws naming
  // the line when one is malformed.
  static IdMap parse(const std::string& text);

  // The id inside for an id outside, or nullopt when the namespace has no id for it (it shows
  // as the overflow id, 65534, inside).
  std::optional<uint32_t> to_inside(uint32_t outside) const;
  std::optional<uint32_t> to_outside(uint32_t inside) const;
  const std::vector<IdRange>& ranges() const { return ranges_; }

 private:
  std::vector<IdRange> ranges_;
};

// Reads /proc/PID/uid_map or gid_map.
IdMap read_uid_map(pid_t pid);
IdMap read_gid_map(pid_t pid);

}  // namespace ckpt::task
