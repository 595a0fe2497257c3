#include "runtime/checkpoint/fd_classify.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "common/error.h"
#include "common/file_util.h"
#include "common/parse_number.h"
#include "runtime/checkpoint/vma_classify.h"

namespace ckpt::checkpoint {

namespace {

const char* kStdioNames[] = {"stdin", "stdout", "stderr"};

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Linux tty majors (Documentation/admin-guide/devices.txt): 4 virtual consoles and serial,
// 5 /dev/tty, /dev/console and /dev/ptmx, 136-143 Unix98 pty slaves.
bool is_tty(dev_t rdev) {
  unsigned major_no = major(rdev);
  return major_no == 4 || major_no == 5 || (major_no >= 136 && major_no <= 143);
}

// Memory devices (major 1) that behave the same wherever they are reopened.
bool is_reopenable_char_device(dev_t rdev) {
  if (major(rdev) != 1) return false;
  unsigned minor_no = minor(rdev);
  return minor_no == 3 || minor_no == 5 || minor_no == 7 || minor_no == 8 || minor_no == 9;
}

Error refuse(const FdFacts& f, const std::string& why) {
  return Error(f.link + " (" + why + ")");
}

std::string anon_inode_reason(const std::string& link) {
  std::string kind = link.substr(std::string("anon_inode:").size());
  if (!kind.empty() && kind.front() == '[' && kind.back() == ']')
    kind = kind.substr(1, kind.size() - 2);
  return kind + " file descriptors are not supported yet; close it before checkpointing";
}

std::string socket_reason(const std::string& family) {
  std::string what = family.empty() ? "sockets" : family + " sockets";
  return what + " are not supported yet; close it before checkpointing";
}

}  // namespace

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

model::Fd classify_fd(const FdFacts& f, const std::string& root, const PipeEnds& pipes,
                      const std::vector<FileId>& external_stdio) {
  model::Fd out;
  out.fd = f.fd;
  out.cloexec = (f.info.flags & O_CLOEXEC) != 0;
  out.flags = f.info.flags & ~O_CLOEXEC;
  out.pos = f.info.pos;
  bool stdio = f.fd >= 0 && f.fd <= 2;

  if (starts_with(f.link, "socket:")) throw refuse(f, socket_reason(f.socket_family));
  if (starts_with(f.link, "anon_inode:")) throw refuse(f, anon_inode_reason(f.link));
  if (starts_with(f.link, "/memfd:"))
    throw refuse(f, "memfd files are not supported yet; close it before checkpointing");

  if (S_ISFIFO(f.mode) && starts_with(f.link, "pipe:")) {
    if (pipes.internal(f.ino)) {
      throw refuse(f, "pipes between tasks of the container are not supported yet");
    }
    if (!stdio) {
      throw refuse(f,
                   "a pipe to a process outside the container; only stdin/stdout/stderr "
                   "may reach outside");
    }
    out.kind = model::FdKind::pipe;
    out.external = kStdioNames[f.fd];
    out.path = "external:" + out.external;
    return out;
  }
  bool given_as_stdio = std::find(external_stdio.begin(), external_stdio.end(),
                                  FileId{f.dev, f.ino}) != external_stdio.end();
  if (stdio && S_ISREG(f.mode) && given_as_stdio) {
    out.kind = model::FdKind::regular;
    out.external = kStdioNames[f.fd];
    out.path = "external:" + out.external;
    return out;
  }
  if (S_ISCHR(f.mode)) {
    if (stdio) {
      // The container's stdio (a terminal, /dev/null, ...) is provided again by whoever
      // restores it, like runc/crun pass the console or the caller's fds.
      out.kind = is_tty(f.rdev) ? model::FdKind::tty : model::FdKind::regular;
      out.external = kStdioNames[f.fd];
      out.path = "external:" + out.external;
      return out;
    }
    if (is_tty(f.rdev)) {
      throw refuse(f, "terminals are supported only as stdin/stdout/stderr");
    }
    if (!is_reopenable_char_device(f.rdev)) {
      throw refuse(f, "character device " + std::to_string(major(f.rdev)) + ":" +
                          std::to_string(minor(f.rdev)) + " cannot be checkpointed");
    }
    // Falls through to the path check: /dev/null & co. are reopened by path.
  } else if (!S_ISREG(f.mode) && !S_ISDIR(f.mode)) {
    throw refuse(f, "this kind of file cannot be checkpointed yet");
  }

  if (f.link.ends_with(" (deleted)")) {
    throw refuse(f, "the file was deleted; it cannot be reopened at restore");
  }
  if (f.link.empty() || f.link.front() != '/') {
    throw refuse(f, "no path to reopen it by");
  }
  out.path = container_path(f.link, root);
  if (out.path.empty()) {
    throw refuse(
        f, "the file is outside the container's root " + root + "; close it or move it inside");
  }
  out.kind = S_ISDIR(f.mode) ? model::FdKind::directory : model::FdKind::regular;
  return out;
}

std::vector<FdFacts> read_fd_facts(pid_t pid) {
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  std::vector<std::string> names;
  {
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) throw sys_error("open " + dir);
    while (dirent* ent = readdir(d)) {
      if (ent->d_name[0] != '.') names.emplace_back(ent->d_name);
    }
    closedir(d);
  }
  std::vector<int> fds;
  for (const auto& name : names)
    fds.push_back(with_context(dir, [&] { return parse_number<int>(name, "fd"); }));
  std::sort(fds.begin(), fds.end());
  std::vector<FdFacts> out;
  for (int fd : fds) {
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
