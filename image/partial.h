// The hidden directories an image is written into before it is published: `.BASE.partial-PID`
// beside DIR (same file system, so rename(2) can publish it).
//
// Each one is flock'ed by its writer for the writer's whole life, so "is anyone still writing
// this?" has an exact answer that dies with the writer; the pid in the name is only for
// messages (a pid can be recycled, a lock cannot outlive its holder). Creating a partial and
// sweeping stale ones both hold a short flock on the parent directory, so a sweep never finds a
// directory that was made but not locked yet.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/unique_fd.h"

namespace ckpt::image {

// "a/b/img" -> "a/b" and "img"; "img" -> "." and "img". DIR without trailing slashes.
std::string parent_of(const std::string& dir);
std::string base_of(const std::string& dir);

// Where process `pid` writes the image for DIR.
std::string partial_path(const std::string& dir, pid_t pid);
// The writer pid of directory entry `entry` if it is a partial of an image named `base`.
std::optional<pid_t> partial_owner(const std::string& base, const std::string& entry);

// A partial directory created and locked by this process; the lock goes with `fd`.
struct PartialDir {
  std::string path;
  UniqueFd fd;  // O_DIRECTORY, flock'ed exclusively
};

// Removes every partial of DIR whose writer is gone (its lock is free) and returns the pids of
// the writers still alive, whose partials are left alone. A missing parent is fine.
std::vector<pid_t> remove_stale_partials(const std::string& dir);

// Removes stale partials of DIR, refuses if another writer is still writing DIR (naming its
// pid), and creates this process's partial, locked, mode 0700.
PartialDir create_partial(const std::string& dir);

}  // namespace ckpt::image
