// Timers of a process: armed interval timers (setitimer/alarm) and every POSIX timer
// (timer_create), with the time left to their next expiry and their period, so the restore can
// re-arm them relative to its own "now" (the container's CLOCK_MONOTONIC/BOOTTIME continue
// across a restore through its time namespace, so a relative remaining time is exact).
//
// Which POSIX timers exist, and their clock, signal, sigev_value and notification target, only
// /proc/PID/timers tells (fs/proc/base.c show_timer, CONFIG_CHECKPOINT_RESTORE). Remaining time
// and overrun only the task can ask for: timer_gettime/timer_getoverrun/getitimer are injected.
// The parser and the checks are pure functions, unit-tested without a task.
#pragma once

#include <sys/time.h>
#include <sys/types.h>
#include <time.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "runtime/model/task_model.h"
#include "runtime/task/memory.h"
#include "runtime/task/ptrace_attachment.h"
#include "runtime/task/syscaller.h"

namespace ckpt::checkpoint {

// One record of /proc/PID/timers:
//   ID: <id>
//   signal: <signo>/<sigev_value as %px, 16 hex digits>
//   notify: <signal|none|thread>/<pid|tid>.<n>
//   ClockID: <clock id>
// `target` is in the pid namespace of the /proc instance read (the dumper's: host view).
struct ProcTimer {
  int id = -1;
  int signo = 0;
  uint64_t sigev_value = 0;
  int notify = 0;    // SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD; | SIGEV_THREAD_ID for tid
  pid_t target = 0;  // the n of "pid.n"/"tid.n"; 0 if the pid/thread is gone
  int clock_id = 0;
};

// Parses the whole file; throws naming the line and what was expected on anything else.
std::vector<ProcTimer> parse_proc_timers(const std::string& text);

// Conversions between the kernel's time structures and the model's nanoseconds.
uint64_t timespec_to_ns(const struct timespec& ts);
uint64_t timeval_to_ns(const struct timeval& tv);

// The threads of the process being dumped: host tid and container tid, leader first.
using ThreadIds = std::vector<std::pair<pid_t, pid_t>>;

// Turns a /proc record of the process that is `pid` in the container into the model
// (remaining time and overrun not filled in), or throws one line naming the timer id and why
// it cannot be restored (the caller's context names the process): a
// notification target that is gone or not a thread of this process, a CPU clock of another
// process, a thread CPU clock whose thread cannot be told (multithreaded process), or a clock
// the restore cannot create (dynamic posix clocks).
model::PosixTimer to_model_timer(const ProcTimer& t, pid_t pid, const ThreadIds& threads);

// Fills p.itimers (armed ones only) and p.posix_timers of the stopped process whose leader
// `sc` drives; `scratch` is a writable page in the task; `threads` as above.
void collect_timers(task::Syscaller& sc, task::TaskMemory& mem, uint64_t scratch,
                    const ThreadIds& threads, model::Process& p);

}  // namespace ckpt::checkpoint
