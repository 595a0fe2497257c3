#include <sstream>

#include "cgroup/cgroup.h"
#include "common/file_util.h"

namespace ckpt::cgroup {

std::optional<std::string> Layout::v1_mount(const std::string& controller) const {
  for (const auto& [name, mount] : v1)
    if (name == controller) return mount;
  return std::nullopt;
}

// mountinfo line: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS
Layout parse_layout(const std::string& mountinfo) {
  Layout layout;
  std::istringstream lines(mountinfo);
  std::string line;
  while (std::getline(lines, line)) {
    std::vector<std::string> fields = split(line, ' ');
    size_t dash = 0;
    while (dash < fields.size() && fields[dash] != "-") ++dash;
    if (dash < 5 || dash + 3 > fields.size()) continue;
    const std::string& mount_point = fields[4];
    const std::string& fstype = fields[dash + 1];
    if (fstype == "cgroup2") {
      if (layout.unified.empty()) layout.unified = mount_point;
    } else if (fstype == "cgroup") {
      // The controllers are in the super options ("rw,memory" or "rw,cpu,cpuacct").
      for (const std::string& opt : split(fields[dash + 3], ',')) {
        if (opt == "rw" || opt == "ro" || opt.rfind("name=", 0) == 0 || opt.find('=') != std::string::npos)
          continue;
        if (!layout.v1_mount(opt)) layout.v1.emplace_back(opt, mount_point);
      }
    }
  }
  return layout;
}

Layout detect_layout() { return parse_layout(read_file("/proc/self/mountinfo")); }

}  // namespace ckpt::cgroup
