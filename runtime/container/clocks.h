// The clocks a container sees. Its time namespace shifts CLOCK_MONOTONIC and CLOCK_BOOTTIME;
// recording them at checkpoint and choosing offsets at restore keeps them continuous, so timers
// and timeouts in the workload neither jump nor fire early.
#pragma once

#include <sys/types.h>

#include "runtime/container/launcher.h"

namespace ckpt::runtime {

struct ContainerClocks {
  long long monotonic_ns = 0;
  long long boottime_ns = 0;
};

// The clocks as the process `pid` sees them now (host clocks plus its time namespace offsets).
ContainerClocks read_container_clocks(pid_t pid);
// Offsets for a new time namespace in which the clocks read `saved` now.
TimeOffsets offsets_to_continue(const ContainerClocks& saved);

}  // namespace ckpt::runtime
