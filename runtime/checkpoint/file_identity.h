// Which fds share one open file description. dup(2), dup2, fcntl(F_DUPFD), fork(2) and
// SCM_RIGHTS all make a second fd point at the same struct file; only kcmp(2) with KCMP_FILE
// tells (fdinfo shows the offset and flags, never the identity). kcmp compares two fds at a
// time, so fds are first grouped by the inode they are open on (st_dev, st_ino): two fds on
// different inodes are never the same description, and kcmp only runs within a group. There
// it orders as well as compares (kcmp(2): 0 equal, 1 less, 2 greater, a total order of the
// kernel's file pointers), so one representative per description is kept sorted and each fd
// found by binary search: O(n log n) even for thousands of descriptions on one inode (every
// eventfd, epoll and timerfd shares the one anon_inode inode).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <vector>

namespace ckpt::checkpoint {

// One fd of one task, as grouping sees it.
struct FdRef {
  pid_t host_pid = 0;
  int fd = -1;
  dev_t dev = 0;
  ino_t ino = 0;
};

// The kernel seam: how the open file descriptions of two fds (host pids) compare, in a total
// order that is consistent for one dump: < 0, 0 (the same description) or > 0.
class FileIdentity {
 public:
  virtual ~FileIdentity() = default;
  virtual int compare(const FdRef& a, const FdRef& b) = 0;
};

// kcmp(pid_a, pid_b, KCMP_FILE, fd_a, fd_b). Needs PTRACE_MODE_READ on both tasks (the dumper
// is their tracer) and CONFIG_KCMP; throws naming the fds when it fails.
class KcmpIdentity final : public FileIdentity {
 public:
  int compare(const FdRef& a, const FdRef& b) override;
};

// Assigns every fd of `fds` a description number: fds with equal numbers share one open file
// description. Numbers are 0, 1, 2, ... in order of first appearance in `fds`.
std::vector<size_t> group_descriptions(const std::vector<FdRef>& fds, FileIdentity& identity);

}  // namespace ckpt::checkpoint
