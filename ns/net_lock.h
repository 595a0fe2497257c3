// One lock for the whole host's crun-ckpt networking, held from checking a container's network
// identities until its links and addresses exist, and while a container's links are removed:
// so two `run`s (under any --root) racing for one address cannot both pass the check, and a
// bridge found unused is not deleted under a container about to attach to it. An flock(2),
// so it dies with its holder (common/file_lock.h).
#pragma once

#include <chrono>
#include <string>

#include "common/unique_fd.h"

namespace ckpt::ns {

// The lock file: under /run, not under any --root, since roots do not know of each other. A
// hidden name, so a state root at /run/crun-ckpt (the default) does not list it.
inline constexpr const char* kHostNetworkLockPath = "/run/crun-ckpt/.network.lock";

class HostNetworkLock {
 public:
  // Waits up to `timeout` for the lock (holders keep it for milliseconds); throws after that.
  explicit HostNetworkLock(std::chrono::milliseconds timeout = std::chrono::seconds(30),
                           const std::string& path = kHostNetworkLockPath);
  HostNetworkLock(const HostNetworkLock&) = delete;
  HostNetworkLock& operator=(const HostNetworkLock&) = delete;

 private:
  UniqueFd fd_;  // closing it is the unlock
};

}  // namespace ckpt::ns
