#include "cgroup/values.h"

#include <charconv>
#include <cmath>

#include "common/error.h"
#include "common/file_util.h"

namespace ckpt::cgroup {

std::optional<std::string> flat_key(std::string_view text, std::string_view key) {
  for (const std::string& line : split(text, '\n')) {
    std::vector<std::string> fields = split(line, ' ');
    if (fields.size() == 2 && fields[0] == key) return fields[1];
  }
  return std::nullopt;
}

namespace {
std::optional<bool> flat_bool(std::string_view text, std::string_view key) {
  std::optional<std::string> value = flat_key(text, key);
  if (!value) return std::nullopt;
  if (*value == "0") return false;
  if (*value == "1") return true;
  throw Error("cgroup.events: unexpected value '" + *value + "' for " + std::string(key));
}
}  // namespace

std::optional<bool> events_frozen(std::string_view events) {
  return flat_bool(events, "frozen");
}

std::optional<bool> events_populated(std::string_view events) {
  return flat_bool(events, "populated");
}

V1FreezerState parse_freezer_state(std::string_view text) {
  std::string_view state = trim(text);
  if (state == "THAWED") return V1FreezerState::thawed;
  if (state == "FREEZING") return V1FreezerState::freezing;
  if (state == "FROZEN") return V1FreezerState::frozen;
  throw Error("freezer.state: unexpected state '" + std::string(state) + "'");
}

bool has_controller(std::string_view list, std::string_view controller) {
  for (const std::string& line : split(list, '\n'))
    for (const std::string& name : split(line, ' '))
      if (name == controller) return true;
  return false;
}

std::vector<pid_t> parse_pids(std::string_view text) {
  std::vector<pid_t> pids;
  for (const std::string& line : split(text, '\n')) {
    std::string_view field = trim(line);
    if (field.empty()) continue;
    pid_t pid = 0;
    auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), pid);
    if (ec != std::errc() || end != field.data() + field.size() || pid <= 0)
      throw Error("cgroup task list: unexpected line '" + std::string(field) + "'");
    pids.push_back(pid);
  }
  return pids;
}

uint64_t cpu_quota_us(double cpus) {
  if (!std::isfinite(cpus) || cpus <= 0)
    throw Error("resources.cpus " + std::to_string(cpus) + " is not a positive number", 0,
                "give a CPU count such as 0.5 or 2");
  double quota = std::round(cpus * static_cast<double>(kCpuPeriodUs));
  // kernel/sched/core.c rejects quotas below 1 ms (min_cfs_quota_period).
  if (quota < 1000)
    throw Error("resources.cpus " + std::to_string(cpus) + " is below the kernel minimum of 0.01",
                0, "give at least 0.01 CPUs");
  return static_cast<uint64_t>(quota);
}

std::string cpu_max_value(double cpus) {
  return std::to_string(cpu_quota_us(cpus)) + " " + std::to_string(kCpuPeriodUs);
}

}  // namespace ckpt::cgroup
