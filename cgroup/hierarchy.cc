#include "cgroup/hierarchy.h"

#include <algorithm>

#include "common/error.h"

namespace ckpt::cgroup {

bool Hierarchy::has(const std::string& controller) const {
  return std::find(controllers.begin(), controllers.end(), controller) != controllers.end();
}

std::vector<Hierarchy> container_hierarchies(const Layout& layout) {
  std::vector<Hierarchy> out;
  if (!layout.unified.empty()) out.push_back(Hierarchy{layout.unified, true, {}});
  for (const std::string& controller : v1_controllers_used()) {
    std::optional<std::string> mount = layout.v1_mount(controller);
    if (!mount) continue;
    auto same = std::find_if(out.begin(), out.end(),
                             [&](const Hierarchy& h) { return !h.v2 && h.mount == *mount; });
    if (same != out.end()) continue;
    Hierarchy h{*mount, false, {}};
    for (const auto& [name, where] : layout.v1)
      if (where == *mount) h.controllers.push_back(name);
    out.push_back(std::move(h));
  }
  return out;
}

void check_name(const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.find('\n') != std::string::npos)
    throw Error("cgroup name '" + name + "' is not a valid directory name", 0,
                "use letters, digits, '-', '_' or '.'");
}

}  // namespace ckpt::cgroup
