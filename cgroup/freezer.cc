#include "cgroup/freezer.h"

#include <algorithm>

#include "cgroup/values.h"
#include "common/error.h"

namespace ckpt::cgroup {
namespace {

using std::chrono::milliseconds;

// Longest sleep between two looks at the state: a missed notification costs at most this much.
constexpr milliseconds kMaxPollInterval{50};

milliseconds remaining(Kernel& kernel, std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - kernel.now());
  return std::max(left, milliseconds(0));
}

Error timeout_error(const std::string& dir, bool frozen, milliseconds timeout) {
  return Error("cgroup " + dir + " did not " + (frozen ? "freeze" : "thaw") + " within " +
                   std::to_string(timeout.count()) + " ms",
               0,
               frozen ? "a task may be in uninterruptible sleep (D state); it was left running"
                      : "check `cat " + dir + "/cgroup.events` or freezer.state");
}

}  // namespace

Freezer::Freezer(std::shared_ptr<Kernel> kernel, std::string dir, FreezerKind kind)
    : kernel_(std::move(kernel)), dir_(std::move(dir)), kind_(kind) {}

void Freezer::freeze(milliseconds timeout) {
  if (kind_ == FreezerKind::v2)
    set_v2(true, timeout);
  else
    set_v1(true, timeout);
}

void Freezer::thaw(milliseconds timeout) {
  if (kind_ == FreezerKind::v2)
    set_v2(false, timeout);
  else
    set_v1(false, timeout);
}

bool Freezer::frozen() const {
  if (kind_ == FreezerKind::v2) {
    std::optional<bool> frozen = events_frozen(kernel_->read(dir_ + "/cgroup.events"));
    return frozen.value_or(false);
  }
  return parse_freezer_state(kernel_->read(dir_ + "/freezer.state")) == V1FreezerState::frozen;
}

// v2: writing cgroup.freeze only starts the transition; "frozen 1" appears in cgroup.events
// once every task has stopped (cgroup-v2.rst, "cgroup.freeze"). The kernel notifies
// cgroup.events on each change, so we wait on a watch made before the write.
void Freezer::set_v2(bool frozen, milliseconds timeout) {
  const std::string events = dir_ + "/cgroup.events";
  auto deadline = kernel_->now() + timeout;
  std::unique_ptr<Watch> watch = kernel_->watch(events);
  kernel_->write(dir_ + "/cgroup.freeze", frozen ? "1" : "0");
  for (;;) {
    std::optional<bool> state = events_frozen(kernel_->read(events));
    if (!state)
      throw Error("cgroup " + dir_ + ": cgroup.events has no 'frozen' field", 0,
                  "the kernel is older than 5.2; use the v1 freezer");
    if (*state == frozen) return;
    milliseconds left = remaining(*kernel_, deadline);
    if (left.count() == 0) {
      if (frozen) abandon_freeze();
      throw timeout_error(dir_, frozen, timeout);
    }
    watch->wait(std::min(left, kMaxPollInterval));
  }
}

// v1: the freezer reports FREEZING until every task is stopped, and the state is only
// re-evaluated when freezer.state is read (freezer-subsystem.rst), so we poll it with a short
// back-off. The kernel sends no notification for this file.
void Freezer::set_v1(bool frozen, milliseconds timeout) {
  const std::string state_file = dir_ + "/freezer.state";
  const V1FreezerState want = frozen ? V1FreezerState::frozen : V1FreezerState::thawed;
  auto deadline = kernel_->now() + timeout;
  kernel_->write(state_file, frozen ? "FROZEN" : "THAWED");
  milliseconds interval(1);
  for (;;) {
    V1FreezerState state = parse_freezer_state(kernel_->read(state_file));
    if (state == want) return;
    milliseconds left = remaining(*kernel_, deadline);
    if (left.count() == 0) {
      if (frozen) abandon_freeze();
      throw timeout_error(dir_, frozen, timeout);
    }
    // A concurrent thaw turned FREEZING back into THAWED: ask again rather than wait forever.
    if (frozen && state == V1FreezerState::thawed) kernel_->write(state_file, "FROZEN");
    kernel_->sleep(std::min({left, interval, kMaxPollInterval}));
    interval *= 2;
  }
}

void Freezer::abandon_freeze() noexcept {
  try {
    if (kind_ == FreezerKind::v2)
      kernel_->write(dir_ + "/cgroup.freeze", "0");
    else
      kernel_->write(dir_ + "/freezer.state", "THAWED");
  } catch (const Error&) {
    // The timeout error is the one worth reporting.
  }
}

}  // namespace ckpt::cgroup
