// User-namespace id maps (/proc/PID/uid_map, gid_map; user_namespaces(7)): which ids inside a
// namespace are which ids outside. Outside a user namespace the map is "0 0 4294967295", the
// identity. Pure; the files are read by runtime/task/id_map.h, and the checkpoint model keeps
// the ranges of a container's namespace (runtime/model/id_map.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ckpt {

struct IdRange {
  uint32_t inside = 0;
  uint32_t outside = 0;
  uint32_t count = 0;

  bool operator==(const IdRange&) const = default;
};

class IdMap {
 public:
  IdMap() = default;
  explicit IdMap(std::vector<IdRange> ranges) : ranges_(std::move(ranges)) {}
  // Parses the text of a uid_map/gid_map file (lines "INSIDE OUTSIDE COUNT", padded with
  // spaces); throws naming the line when one is malformed.
  static IdMap parse(const std::string& text);

  // The id inside for an id outside, or nullopt when the namespace has no id for it (it shows
  // as the overflow id, 65534, inside).
  std::optional<uint32_t> to_inside(uint32_t outside) const;
  std::optional<uint32_t> to_outside(uint32_t inside) const;
  const std::vector<IdRange>& ranges() const { return ranges_; }

 private:
  std::vector<IdRange> ranges_;
};

}  // namespace ckpt
