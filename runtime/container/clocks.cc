#include "runtime/container/clocks.h"

#include <time.h>

#include <cstdint>

#include "common/error.h"
#include "common/file_util.h"
#include "common/parse_number.h"

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
  // Lines: "monotonic SECONDS NANOSECONDS" and "boottime SECONDS NANOSECONDS" (clock ids 1
  // and 7 instead of names before Linux 5.11); kernel/time/namespace.c proc_timens_show_offsets.
  with_context("/proc/" + std::to_string(pid) + "/timens_offsets", [&] {
    for (const std::string& line : split(text, '\n')) {
      std::vector<std::string> f = split(line, ' ');
      if (f.size() != 3) throw Error("line '" + line + "' is not: CLOCK SECONDS NANOSECONDS");
      // The kernel keeps |seconds| within KTIME_SEC_MAX (INT64_MAX / 1e9); one less keeps
      // seconds * 1e9 + nanoseconds inside a long long.
      constexpr long long kMaxSec = INT64_MAX / 1000000000LL - 1;
      long long sec = parse_number<long long>(f[1], f[0] + " seconds", -kMaxSec, kMaxSec);
      long long nsec = parse_number<long long>(f[2], f[0] + " nanoseconds", 0, 999999999);
      long long offset = sec * 1000000000LL + nsec;
      if (f[0] == "monotonic" || f[0] == "1") clocks.monotonic_ns += offset;
      if (f[0] == "boottime" || f[0] == "7") clocks.boottime_ns += offset;
    }
  });
  return clocks;
}

TimeOffsets offsets_to_continue(const ContainerClocks& saved) {
  return TimeOffsets{saved.monotonic_ns - now_ns(CLOCK_MONOTONIC),
                     saved.boottime_ns - now_ns(CLOCK_BOOTTIME)};
}

}  // namespace ckpt::runtime
