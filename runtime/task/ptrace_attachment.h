// A ptrace attachment to one thread, owned: PTRACE_SEIZE on construction, PTRACE_DETACH on
// destruction. Seize (not ATTACH) so no SIGSTOP is injected and group-stops are reported as
// PTRACE_EVENT_STOP, which lets us tell "the job was stopped" from "we interrupted it".
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <optional>
#include <vector>

namespace ckpt::task {

struct SeizeOptions {
  bool trace_clone = false;      // PTRACE_O_TRACECLONE: new threads/children start traced
  bool suspend_seccomp = false;  // PTRACE_O_SUSPEND_SECCOMP: filters don't block injected calls
  bool exit_kill = false;        // PTRACE_O_EXITKILL: SIGKILL the tracee if the tracer dies
};

// Why the tracee is stopped, decoded from a waitpid status.
struct Stop {
  enum Kind {
    interrupt,        // PTRACE_EVENT_STOP after PTRACE_INTERRUPT (or a seize of a live task)
    group_stop,       // PTRACE_EVENT_STOP with a stop signal: the task is job-control stopped
    signal_delivery,  // a signal is about to be delivered; `signal` says which
    syscall,          // syscall-entry or -exit stop (PTRACE_O_TRACESYSGOOD)
    ptrace_event,     // another PTRACE_EVENT_* (clone, exec, exit...) in `event`
  };
  Kind kind = interrupt;
  int signal = 0;
  int event = 0;
};

// Decodes a stopped waitpid status (pure; unit-tested).
Stop decode_stop(int status);

class SeizedTask {
 public:
  // PTRACE_SEIZE; the task keeps running until interrupt(). Throws naming the pid.
  SeizedTask(pid_t tid, const SeizeOptions& options);
  SeizedTask(SeizedTask&& other) noexcept;
  SeizedTask& operator=(SeizedTask&& other) noexcept;
  SeizedTask(const SeizedTask&) = delete;
  SeizedTask& operator=(const SeizedTask&) = delete;
  // Detaches (interrupting first if the task is running); errors are swallowed.
  ~SeizedTask();

  pid_t tid() const { return tid_; }
  bool stopped() const { return stopped_; }
  const Stop& last_stop() const { return last_stop_; }

  // PTRACE_INTERRUPT and wait until the task is in a ptrace-stop. A signal-delivery-stop seen
  // first is handled by defer_current_signal() so the task's handlers do not run while it is
  // being inspected.
  Stop interrupt();
  // Resumes with `request` (PTRACE_CONT, PTRACE_SYSCALL, PTRACE_SINGLESTEP), delivering `sig`.
  void resume(int request, int sig = 0);
  // waitpid(__WALL) for the next stop; throws if the task exits or is killed meanwhile.
  Stop wait_stop();
  // The same without blocking: the stop if one is reported now, nullopt if the task still runs.
  std::optional<Stop> poll_stop();
  // For a signal-delivery-stop the caller saw: the signal, already dequeued, is queued to the
  // thread again at once (rt_tgsigqueueinfo with its siginfo where the kernel allows a tracer
  // to, tgkill otherwise), so it stays pending for the thread and no tracer death can lose it;
  // the caller then resumes with no signal. The original siginfo is kept in deferred_signals().
  void defer_current_signal();
  // Original siginfo of the signals queued again by defer_current_signal(), oldest first: a
  // dump records these instead of the copies it finds queued (a tgkill copy loses the kernel's
  // si_code and fields).
  const std::vector<siginfo_t>& deferred_signals() const { return deferred_; }
  void clear_deferred_signals() { deferred_.clear(); }

  // PTRACE_DETACH now; throws on failure.
  void detach();
  // Gives up ownership without detaching (the caller, or the tracer's exit, ends the trace).
  pid_t release();

 private:
  void detach_noexcept() noexcept;
  // waitpid(__WALL | flags): the stop, nullopt when WNOHANG found nothing; throws on an exit.
  std::optional<Stop> wait_for_status(int flags);

  pid_t tid_ = -1;
  bool stopped_ = false;
  Stop last_stop_;
  std::vector<siginfo_t> deferred_;
};

}  // namespace ckpt::task
