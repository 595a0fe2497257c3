// Classifies a task's open files: what can be reopened at restore (regular files, directories
// by their container path), what the restorer supplies (stdio inherited from outside the
// container), and everything else, which makes the checkpoint refuse with the reason. Pure over
// the facts read from /proc/PID/fd, fdinfo and stat (read_fd_facts), unit-tested with fixtures.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "runtime/model/task_model.h"

namespace ckpt::checkpoint {

struct FdInfo {
  uint64_t pos = 0;
  int flags = 0;  // f_flags with O_CLOEXEC folded in, as fdinfo prints them (octal)
  int mnt_id = -1;
};
FdInfo parse_fdinfo(const std::string& text);

// What /proc tells about one fd of one task.
struct FdFacts {
  int fd = -1;
  std::string link;  // readlink /proc/PID/fd/N: a path, "pipe:[ino]", "socket:[ino]", ...
  mode_t mode = 0;   // st_mode of the open file (stat through the link)
  dev_t rdev = 0;    // character devices
  ino_t ino = 0;
  dev_t dev = 0;
  FdInfo info;
  std::string socket_family;  // for sockets: "unix", "tcp", "udp", ... or "" if unknown
};

// Which ends of each pipe (by inode) the container's tasks hold: O_RDONLY and/or O_WRONLY.
// A pipe with both ends inside is an internal pipe (its contents would have to be dumped).
class PipeEnds {
 public:
  void add(const FdFacts& f);
  bool internal(ino_t ino) const;

 private:
  std::map<ino_t, int> ends_;  // bit 0: read end seen, bit 1: write end seen
};

// Identity of an open file, to recognise the files the runtime gave the container as stdio.
struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const FileId&) const = default;
};

// Classifies one fd. Throws ckpt::Error whose message is "<link> (<reason and what to do>)";
// the caller prefixes the task and fd. `root` is the container's root in the host view.
// `external_stdio`: files the runtime opened as the container's stdio (a detached container's
// log, say); on fds 0-2 they are supplied again by the restorer, like a pipe or a terminal.
model::Fd classify_fd(const FdFacts& facts, const std::string& root, const PipeEnds& pipes,
                      const std::vector<FileId>& external_stdio = {});

// Reads the facts of every fd of host pid `pid`, in fd order.
std::vector<FdFacts> read_fd_facts(pid_t pid);

// Looks a socket inode up in the tables of the task's network namespace (/proc/PID/net/*):
// returns "unix", "tcp", "tcp6", "udp", "udp6", "raw", "netlink", "packet" or "".
std::string socket_family(pid_t pid, ino_t ino);
// Pure helper: whether the /proc/net table `text` lists inode `ino` in its "inode" column.
bool net_table_has_inode(const std::string& text, ino_t ino);

}  // namespace ckpt::checkpoint
