#include "runtime/container/clocks.h"

#include <time.h>

#include <sstream>

#include "common/error.h"
#include "common/file_util.h"

namespace ckpt::runtime {

namespace {

long long now_ns(clockid_t clock) {
  struct timespec ts;
  ::clock_gettime(clock, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

}  // namespace

ContainerClocks read_container_clocks(pid_t pid) {
  ContainerClocks clocks{now_ns(CLOCK_MONOTONIC), now_ns(CLOCK_BOOTTIME)};
  std::string text;
  try {
    text = read_file("/proc/" + std::to_string(pid) + "/timens_offsets");
  } catch (const Error&) {
    return clocks;  // no time namespace support: host clocks
  }
  // Lines: "monotonic SECONDS NANOSECONDS" and "boottime SECONDS NANOSECONDS".
  std::istringstream lines(text);
  std::string name;
  long long sec = 0, nsec = 0;
  while (lines >> name >> sec >> nsec) {
    long long offset = sec * 1000000000LL + nsec;
    if (name == "monotonic" || name == "1") clocks.monotonic_ns += offset;
    if (name == "boottime" || name == "7") clocks.boottime_ns += offset;
  }
  return clocks;
}

TimeOffsets offsets_to_continue(const ContainerClocks& saved) {
  return TimeOffsets{saved.monotonic_ns - now_ns(CLOCK_MONOTONIC),
                     saved.boottime_ns - now_ns(CLOCK_BOOTTIME)};
}

}  // namespace ckpt::runtime
