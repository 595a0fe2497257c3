// The text formats of cgroup files, parsed and formatted without touching the kernel:
// cgroup.events ("populated 1\nfrozen 0\n"), v1 freezer.state, cgroup.controllers lists,
// cgroup.procs/tasks pid lists, and the cpu quota written to cpu.max or cpu.cfs_quota_us.
// See Documentation/admin-guide/cgroup-v2.rst and cgroup-v1/freezer-subsystem.rst.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ckpt::cgroup {

// CFS period used for every cpu limit; the kernel's default, so only the quota changes.
constexpr uint64_t kCpuPeriodUs = 100000;

// The value of `key` in a flat-keyed file ("key value" per line), nullopt if absent.
std::optional<std::string> flat_key(std::string_view text, std::string_view key);

// cgroup.events: "frozen" (absent before Linux 5.2) and "populated".
std::optional<bool> events_frozen(std::string_view events);
std::optional<bool> events_populated(std::string_view events);

// v1 freezer.state: FREEZING means the kernel is still stopping tasks.
enum class V1FreezerState { thawed, freezing, frozen };
V1FreezerState parse_freezer_state(std::string_view text);

// A space-separated controller list (cgroup.controllers, cgroup.subtree_control).
bool has_controller(std::string_view list, std::string_view controller);

// cgroup.procs, cgroup.threads, tasks: one decimal id per line. Throws on anything else.
std::vector<pid_t> parse_pids(std::string_view text);

// The CFS quota for `cpus` CPUs with kCpuPeriodUs: 1.5 -> 150000. Throws a ckpt::Error naming
// resources.cpus when it is not a positive number or below the kernel's 1 ms minimum quota.
uint64_t cpu_quota_us(double cpus);
// The v2 cpu.max line: "QUOTA PERIOD".
std::string cpu_max_value(double cpus);

}  // namespace ckpt::cgroup
