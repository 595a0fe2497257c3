// Reaching a task's files from outside without being led astray by them. A container's
// symlinks are the container's: "/tmp/x -> /etc/shadow" must name the container's file, never
// the host's, and an archive unpacked into a mount must stay in it. openat2(2)'s RESOLVE_*
// flags make the kernel enforce both, with no check-then-use race.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "common/unique_fd.h"

namespace ckpt::task {

// The task's root directory (/proc/PID/root) as a directory fd: paths below it resolve in the
// task's mount namespace.
UniqueFd open_task_root(pid_t pid);

// `path` (absolute, as the task sees it) under `root_fd`, resolved as the task would: symlinks
// are followed but "/" and ".." never lead above the root (RESOLVE_IN_ROOT); procfs magic
// links are refused. Throws "open PATH: ..." on failure.
UniqueFd open_in_root(int root_fd, const std::string& path, int flags);

// `relpath` ("" for dir_fd itself) below `dir_fd`: no symlink is followed at all, no mount is
// crossed and ".." cannot climb out (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV).
// Returns -errno on failure instead of throwing, for callers that handle ENOENT themselves.
int open_beneath_raw(int dir_fd, const std::string& relpath, int flags);
// The same, throwing "open RELPATH: ..." on failure.
UniqueFd open_beneath(int dir_fd, const std::string& relpath, int flags);

// The names in directory `dir_fd` (opened O_RDONLY; it stays open and keeps its flags, so an
// O_NOATIME directory is listed without touching its atime), without "." and "..", sorted.
// `where` names the directory in errors.
std::vector<std::string> list_directory(int dir_fd, const std::string& where);

// statx of `name` in `dir_fd` ("" for dir_fd itself), never following a final symlink, with the
// mount id (STATX_MNT_ID). Returns -errno on failure.
int stat_entry(int dir_fd, const std::string& name, struct statx& out);

}  // namespace ckpt::task
