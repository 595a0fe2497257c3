// Freezing and thawing one cgroup directory, v2 (cgroup.freeze + cgroup.events) or v1 (the
// freezer controller's freezer.state). Both return only once the kernel reports the state
// reached for every task, or throw after the timeout naming the cgroup.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "cgroup/cgroup.h"
#include "cgroup/kernel.h"

namespace ckpt::cgroup {

class Freezer {
 public:
  // `dir` is the cgroup directory in the hierarchy of `kind` (v2 or v1, never automatic).
  Freezer(std::shared_ptr<Kernel> kernel, std::string dir, FreezerKind kind);

  void freeze(std::chrono::milliseconds timeout);
  void thaw(std::chrono::milliseconds timeout);
  bool frozen() const;

  FreezerKind kind() const { return kind_; }
  const std::string& dir() const { return dir_; }

 private:
  void set_v2(bool frozen, std::chrono::milliseconds timeout);
  void set_v1(bool frozen, std::chrono::milliseconds timeout);
  // Puts the cgroup back to running after a freeze that timed out (best effort).
  void abandon_freeze() noexcept;

  std::shared_ptr<Kernel> kernel_;
  std::string dir_;
  FreezerKind kind_;
};

}  // namespace ckpt::cgroup
