#include "runtime/checkpoint/fd_facts.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "common/error.h"
#include "common/file_util.h"
#include "common/parse_number.h"
#include "runtime/task/proc.h"

namespace ckpt::checkpoint {

FdInfo parse_fdinfo(const std::string& text) {
  FdInfo info;
  for_each_proc_field(text, [&info](const std::string& key, const std::string& value) {
    if (value.empty()) return;
    if (key == "pos")
      info.pos = parse_number<uint64_t>(value, "fdinfo: pos");
    else if (key == "flags")
      info.flags = parse_number<int>(value, "fdinfo: flags", NumberBase::octal);
    else if (key == "mnt_id")
      info.mnt_id = parse_number<int>(value, "fdinfo: mnt_id");
  });
  return info;
}

void PipeEnds::add(const FdFacts& f) {
  if (!S_ISFIFO(f.mode)) return;
  int acc = f.info.flags & O_ACCMODE;
  int bit = acc == O_RDONLY ? 1 : acc == O_WRONLY ? 2 : 3;
  ends_[f.ino] |= bit;
}

bool PipeEnds::internal(ino_t ino) const {
  auto it = ends_.find(ino);
  return it != ends_.end() && it->second == 3;
}

std::vector<FdFacts> read_fd_facts(pid_t pid) {
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  std::vector<FdFacts> out;
  for (int fd : task::list_fds(pid)) {
    FdFacts f;
    f.fd = fd;
    std::string link_path = dir + "/" + std::to_string(fd);
    char buf[4096];
    ssize_t n = readlink(link_path.c_str(), buf, sizeof buf);
    if (n < 0) throw sys_error("readlink " + link_path);
    f.link.assign(buf, static_cast<size_t>(n));
    struct stat st {};
    // stat through the magic link reaches the open file itself, even for pipes and sockets.
    if (stat(link_path.c_str(), &st) != 0) throw sys_error("stat " + link_path);
    f.mode = st.st_mode;
    f.rdev = st.st_rdev;
    f.ino = st.st_ino;
    f.dev = st.st_dev;
    f.nlink = st.st_nlink;
    f.size = static_cast<uint64_t>(st.st_size);
    f.blocks = static_cast<uint64_t>(st.st_blocks);
    f.uid = st.st_uid;
    f.gid = st.st_gid;
    std::string fdinfo_path = "/proc/" + std::to_string(pid) + "/fdinfo/" + std::to_string(fd);
    std::string fdinfo = read_file(fdinfo_path);
    f.info = with_context(fdinfo_path, [&] { return parse_fdinfo(fdinfo); });
    if (S_ISSOCK(st.st_mode)) f.socket_family = socket_family(pid, st.st_ino);
    out.push_back(std::move(f));
  }
  return out;
}

bool net_table_has_inode(const std::string& text, ino_t ino) {
  std::string want = std::to_string(ino);
  std::istringstream lines(text);
  std::string line;
  std::getline(lines, line);  // header
  while (std::getline(lines, line)) {
    std::istringstream tokens(line);
    std::string tok;
    while (tokens >> tok)
      if (tok == want) return true;
  }
  return false;
}

std::string socket_family(pid_t pid, ino_t ino) {
  static const char* kTables[] = {"unix", "tcp",  "tcp6",    "udp",   "udp6",
                                  "raw",  "raw6", "netlink", "packet"};
  for (const char* table : kTables) {
    std::string text;
    try {
      text = read_file("/proc/" + std::to_string(pid) + "/net/" + table);
    } catch (const Error&) {
      continue;  // protocol not built into this kernel
    }
    if (net_table_has_inode(text, ino)) {
      std::string name = table;
      if (name == "tcp6" || name == "udp6" || name == "raw6") name.pop_back();
      return name;
    }
  }
  return "";
}

}  // namespace ckpt::checkpoint
