#include "cgroup/limits.h"

#include "cgroup/values.h"
#include "common/error.h"

namespace ckpt::cgroup {
namespace {

struct Target {
  const Member* member;
  bool v2;
};

// v2 only offers a controller to a child whose parent lists it in cgroup.subtree_control
// (cgroup-v2.rst, "Enabling and Disabling"). The mount root and crun-ckpt/ hold no tasks, so
// the "no internal processes" rule never refuses this.
void enable_v2(Kernel& kernel, const Hierarchy& h, const std::string& controller) {
  for (const std::string& dir : {h.mount, h.parent_dir()}) {
    const std::string file = dir + "/cgroup.subtree_control";
    if (has_controller(kernel.read(file), controller)) continue;
    with_context("enable the " + controller + " controller",
                 [&] { kernel.write(file, "+" + controller); });
  }
}

// Finds where `controller` lives for the limit named `key`; throws naming the limit if nowhere.
Target locate(Kernel& kernel, const std::vector<Member>& members, const std::string& controller,
              const std::string& key) {
  for (const Member& m : members)
    if (!m.hierarchy.v2 && m.hierarchy.has(controller)) return {&m, false};
  for (const Member& m : members) {
    if (!m.hierarchy.v2) continue;
    const std::string available = m.hierarchy.mount + "/cgroup.controllers";
    if (has_controller(kernel.read(available), controller)) {
      enable_v2(kernel, m.hierarchy, controller);
      return {&m, true};
    }
    throw Error("cannot apply " + key + ": the " + controller +
                    " controller is not available on this host (not in " + available +
                    " and not mounted as a v1 hierarchy)",
                0, "remove " + key + " from the spec or enable the controller on the host");
  }
  throw Error("cannot apply " + key + ": no cgroup hierarchy has the " + controller + " controller",
              0, "remove " + key + " from the spec or enable the controller on the host");
}

void set_memory(Kernel& kernel, const Target& t, uint64_t bytes) {
  const std::string& dir = t.member->dir;
  const std::string value = std::to_string(bytes);
  if (t.v2) {
    kernel.write(dir + "/memory.max", value);
    // The limit is on memory, not memory+swap: without this the workload just swaps.
    if (kernel.exists(dir + "/memory.swap.max")) kernel.write(dir + "/memory.swap.max", "0");
    return;
  }
  const std::string memsw = dir + "/memory.memsw.limit_in_bytes";
  const bool has_memsw = kernel.exists(memsw);
  try {
    kernel.write(dir + "/memory.limit_in_bytes", value);
  } catch (const Error& e) {
    // memsw must stay >= limit_in_bytes: raising a limit means raising memsw first.
    if (e.code() != EINVAL || !has_memsw) throw;
    kernel.write(memsw, value);
    kernel.write(dir + "/memory.limit_in_bytes", value);
  }
  if (has_memsw) kernel.write(memsw, value);
}

void set_cpu(Kernel& kernel, const Target& t, double cpus) {
  const std::string& dir = t.member->dir;
  if (t.v2) {
    kernel.write(dir + "/cpu.max", cpu_max_value(cpus));
    return;
  }
  const uint64_t quota = cpu_quota_us(cpus);
  kernel.write(dir + "/cpu.cfs_period_us", std::to_string(kCpuPeriodUs));
  kernel.write(dir + "/cpu.cfs_quota_us", std::to_string(quota));
}

}  // namespace

void apply_limits(Kernel& kernel, const std::vector<Member>& members,
                  const config::Resources& resources) {
  if (resources.memory_bytes) {
    Target t = locate(kernel, members, "memory", "resources.memory");
    with_context("set resources.memory in " + t.member->dir,
                 [&] { set_memory(kernel, t, *resources.memory_bytes); });
  }
  if (resources.pids) {
    Target t = locate(kernel, members, "pids", "resources.pids");
    with_context("set resources.pids in " + t.member->dir, [&] {
      kernel.write(t.member->dir + "/pids.max", std::to_string(*resources.pids));
    });
  }
  if (resources.cpus) {
    // Validate before touching anything so a bad value names the spec key alone.
    cpu_quota_us(*resources.cpus);
    Target t = locate(kernel, members, "cpu", "resources.cpus");
    with_context("set resources.cpus in " + t.member->dir,
                 [&] { set_cpu(kernel, t, *resources.cpus); });
  }
}

}  // namespace ckpt::cgroup
