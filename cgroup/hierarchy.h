// Which hierarchies a container cgroup spans, and its directory in each. On a pure v2 host that
// is one directory; on a hybrid host the unified one plus one per v1 hierarchy holding a
// controller we use, so every task is accounted, limited and frozen wherever that happens.
#pragma once

#include <string>
#include <vector>

#include "cgroup/cgroup.h"

namespace ckpt::cgroup {

struct Hierarchy {
  std::string mount;
  bool v2 = false;
  std::vector<std::string> controllers;  // v1 controllers bound to this mount; empty for v2

  bool has(const std::string& controller) const;
  std::string parent_dir() const { return mount + "/" + kParentName; }
  std::string dir(const std::string& name) const { return parent_dir() + "/" + name; }
};

// One directory of a container cgroup and the hierarchy it is in.
struct Member {
  Hierarchy hierarchy;
  std::string dir;
};

// The v1 controllers a container cgroup joins when their hierarchy is mounted.
inline const std::vector<std::string>& v1_controllers_used() {
  static const std::vector<std::string> used = {"memory", "pids", "cpu", "cpuacct", "freezer"};
  return used;
}

// The unified hierarchy first (if mounted), then each v1 mount holding a used controller, once
// even when several controllers share it ("cpu,cpuacct").
std::vector<Hierarchy> container_hierarchies(const Layout& layout);

// Throws unless `name` is usable as one cgroup directory name.
void check_name(const std::string& name);

}  // namespace ckpt::cgroup
