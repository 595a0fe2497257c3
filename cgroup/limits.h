// Resource limits (config::Resources) written to whichever hierarchy holds each controller:
// a v1 hierarchy when the controller is bound there, else the unified one, where the
// controller is first enabled in the parents' cgroup.subtree_control.
#pragma once

#include <vector>

#include "cgroup/hierarchy.h"
#include "cgroup/kernel.h"
#include "config/spec.h"

namespace ckpt::cgroup {

void apply_limits(Kernel& kernel, const std::vector<Member>& members,
                  const config::Resources& resources);

}  // namespace ckpt::cgroup
