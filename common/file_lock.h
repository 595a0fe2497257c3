// Advisory locks that die with their holder (flock(2)). The kernel drops a flock when the last
// fd of its open file description is closed, so a killed process never leaves a stale lock the
// way a pid file alone does; a child forked while it is held shares it (same description) and
// keeps it held until both have let go. Used for "who is creating this container", "who is
// checkpointing it" and "who is writing this partial image".
#pragma once

#include <sys/types.h>

#include <string>

#include "common/unique_fd.h"

namespace ckpt {

enum class LockMode { shared, exclusive };

// flock(fd, mode | LOCK_NB): true if taken, false if another description holds a conflicting
// lock; throws (naming `what`) on any other error.
bool try_lock(int fd, LockMode mode, const std::string& what);

// Opens (creating it 0600 if needed) the lock file `path` and takes an exclusive lock without
// waiting. Returns the owning fd, or an invalid one if someone else holds the lock.
UniqueFd try_lock_file(const std::string& path);

// True if a lock is held on `path` by someone else right now: probes with a shared lock,
// released at once. A missing file is not held.
bool lock_file_held(const std::string& path);

}  // namespace ckpt
