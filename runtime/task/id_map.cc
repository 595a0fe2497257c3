#include "runtime/task/id_map.h"

#include <sstream>

#include "common/error.h"
#include "common/parse_number.h"
#include "common/file_util.h"

namespace ckpt::task {

namespace {

uint32_t to_u32(const std::string& text, const std::string& where) {
  return parse_number<uint32_t>(text, where);
}

IdMap read_map(pid_t pid, const char* file) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  return with_context(path, [&] { return IdMap::parse(read_file(path)); });
}

}  // namespace

IdMap IdMap::parse(const std::string& text) {
  std::vector<IdRange> ranges;
  std::istringstream lines(text);
  std::string line;
  size_t lineno = 0;
  while (std::getline(lines, line)) {
    ++lineno;
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string word; words >> word;) w.push_back(word);
    if (w.empty()) continue;
    std::string where = "line " + std::to_string(lineno);
    if (w.size() != 3) throw Error(where + ": expected 'INSIDE OUTSIDE COUNT'");
    IdRange r{to_u32(w[0], where), to_u32(w[1], where), to_u32(w[2], where)};
    if (r.count == 0) throw Error(where + ": a range of 0 ids");
    ranges.push_back(r);
  }
  return IdMap(std::move(ranges));
}

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

IdMap read_uid_map(pid_t pid) {
  return read_map(pid, "uid_map");
}
IdMap read_gid_map(pid_t pid) {
  return read_map(pid, "gid_map");
}

}  // namespace ckpt::task
