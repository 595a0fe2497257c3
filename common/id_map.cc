#include "common/id_map.h"

#include <sstream>

#include "common/error.h"
#include "common/file_util.h"
#include "common/parse_number.h"

namespace ckpt {

IdMap IdMap::parse(const std::string& text) {
  std::vector<IdRange> ranges;
  for_each_line(text, [&](size_t lineno, const std::string& line) {
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string word; words >> word;) w.push_back(word);
    if (w.empty()) return;
    std::string where = "line " + std::to_string(lineno);
    if (w.size() != 3)
      throw Error(where + ": expected 'INSIDE OUTSIDE COUNT', found '" + line + "'");
    IdRange r = with_context(where, [&] {
      return IdRange{parse_number<uint32_t>(w[0], "inside id"),
                     parse_number<uint32_t>(w[1], "outside id"),
                     parse_number<uint32_t>(w[2], "count")};
    });
    if (r.count == 0) throw Error(where + ": a range of 0 ids");
    ranges.push_back(r);
  });
  return IdMap(std::move(ranges));
}

// 64-bit arithmetic: start + count may pass 2^32 for a range ending at the top.
std::optional<uint32_t> IdMap::to_inside(uint32_t outside) const {
  for (const IdRange& r : ranges_) {
    if (outside >= r.outside && uint64_t{outside} - r.outside < r.count)
      return r.inside + (outside - r.outside);
  }
  return std::nullopt;
}

std::optional<uint32_t> IdMap::to_outside(uint32_t inside) const {
  for (const IdRange& r : ranges_) {
    if (inside >= r.inside && uint64_t{inside} - r.inside < r.count)
      return r.outside + (inside - r.inside);
  }
  return std::nullopt;
}

}  // namespace ckpt
