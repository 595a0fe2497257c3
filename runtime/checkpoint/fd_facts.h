// What /proc tells about the open files of a task: the fd links, fdinfo and stat through the
// magic link (read_fd_facts), plus the container-wide facts classification needs (which pipe
// ends the container holds). Classification itself is one handler per kind (runtime/files/).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

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
  nlink_t nlink = 1;    // 0 for a deleted file
  uint64_t size = 0;    // st_size
  uint64_t blocks = 0;  // st_blocks (512-byte units): what a sparse file really holds
  uid_t uid = 0;        // owner as the dumper sees it
  gid_t gid = 0;
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

// Reads the facts of every fd of host pid `pid`, in fd order.
std::vector<FdFacts> read_fd_facts(pid_t pid);

// Looks a socket inode up in the tables of the task's network namespace (/proc/PID/net/*):
// returns "unix", "tcp", "tcp6", "udp", "udp6", "raw", "netlink", "packet" or "".
std::string socket_family(pid_t pid, ino_t ino);
// Pure helper: whether the /proc/net table `text` lists inode `ino` in its "inode" column.
bool net_table_has_inode(const std::string& text, ino_t ino);

}  // namespace ckpt::checkpoint
