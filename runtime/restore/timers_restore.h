// Pure helpers of the timer restore (timers_restore.cc), apart so they are unit-tested: the
// conversions from the model's nanoseconds and the plan for recreating POSIX timer ids on a
// kernel that cannot be told which id to use.
#pragma once

#include <sys/time.h>
#include <time.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ckpt::restore {

struct timespec ns_to_timespec(uint64_t ns);
// Rounds up to whole microseconds: an armed timer must not become a disarmed one (0) and must
// not fire earlier than dumped.
struct timeval ns_to_timeval(uint64_t ns);

// Without PR_TIMER_CREATE_RESTORE_IDS, timer_create hands out ids in increasing order from 0
// in a new process (kernel/time/posix-timers.c, per-process counter). To get `wanted` (sorted,
// distinct, >= 0), the restore creates ids 0..max in order and deletes the ones not wanted:
// returns those filler ids, or throws when more than `max_fillers` would be needed.
std::vector<int> filler_timer_ids(const std::vector<int>& wanted, size_t max_fillers);

}  // namespace ckpt::restore
