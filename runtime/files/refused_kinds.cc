// What the image cannot hold yet, each refused with why and what to do (DESIGN.md
// "Restartability and leaks"): the checkpoint names the task and fd and leaves the container
// running. Each kind that becomes capturable moves out of here into a handler of its own.
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "runtime/files/file_kinds.h"

namespace ckpt::files {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Linux tty majors (Documentation/admin-guide/devices.txt): 4 virtual consoles and serial,
// 5 /dev/tty, /dev/console and /dev/ptmx, 136-143 Unix98 pty slaves.
bool is_tty(dev_t rdev) {
  unsigned major_no = major(rdev);
  return major_no == 4 || major_no == 5 || (major_no >= 136 && major_no <= 143);
}

class Socket final : public FileClassifier {
 public:
  std::optional<Verdict> classify(const Description& d, ClassifyEnv&, model::File&) const override {
    if (!starts_with(d.facts.link, "socket:")) return std::nullopt;
    const std::string& family = d.facts.socket_family;
    std::string what = family.empty() ? "sockets" : family + " sockets";
    return Verdict::refused(what + " are not supported yet; close it before checkpointing");
  }
};

class AnonInode final : public FileClassifier {
 public:
  std::optional<Verdict> classify(const Description& d, ClassifyEnv&, model::File&) const override {
    if (!starts_with(d.facts.link, "anon_inode:")) return std::nullopt;
    std::string kind = d.facts.link.substr(std::string("anon_inode:").size());
    if (!kind.empty() && kind.front() == '[' && kind.back() == ']')
      kind = kind.substr(1, kind.size() - 2);
    return Verdict::refused(kind +
                            " file descriptors are not supported yet; close it before "
                            "checkpointing");
  }
};

class Memfd final : public FileClassifier {
 public:
  std::optional<Verdict> classify(const Description& d, ClassifyEnv&, model::File&) const override {
    if (!starts_with(d.facts.link, "/memfd:")) return std::nullopt;
    return Verdict::refused("memfd files are not supported yet; close it before checkpointing");
  }
};

// Pipes that are nobody's stdio from outside (external_file.cc takes those).
class Pipe final : public FileClassifier {
 public:
  std::optional<Verdict> classify(const Description& d, ClassifyEnv& env,
                                  model::File&) const override {
    if (!S_ISFIFO(d.facts.mode) || !starts_with(d.facts.link, "pipe:")) return std::nullopt;
    if (env.pipes.internal(d.facts.ino))
      return Verdict::refused("pipes between tasks of the container are not supported yet");
    return Verdict::refused(
        "a pipe to a process outside the container; only stdin/stdout/stderr may reach outside");
  }
};

// Character devices other than the memory devices device_file.cc reopens.
class CharDevice final : public FileClassifier {
 public:
  std::optional<Verdict> classify(const Description& d, ClassifyEnv&, model::File&) const override {
    if (!S_ISCHR(d.facts.mode)) return std::nullopt;
    if (is_tty(d.facts.rdev))
      return Verdict::refused("terminals are supported only as stdin/stdout/stderr");
    if (major(d.facts.rdev) == 1) return std::nullopt;  // maybe one device_file.cc reopens
    return Verdict::refused("character device " + std::to_string(major(d.facts.rdev)) + ":" +
                            std::to_string(minor(d.facts.rdev)) + " cannot be checkpointed");
  }
};

// The end of the table: whatever no kind claimed (named FIFOs, block devices, symlinks opened
// with O_PATH|O_NOFOLLOW, other memory devices...).
class Other final : public FileClassifier {
 public:
  std::optional<Verdict> classify(const Description& d, ClassifyEnv&, model::File&) const override {
    if (S_ISCHR(d.facts.mode)) {
      return Verdict::refused("character device " + std::to_string(major(d.facts.rdev)) + ":" +
                              std::to_string(minor(d.facts.rdev)) + " cannot be checkpointed");
    }
    return Verdict::refused("this kind of file cannot be checkpointed yet");
  }
};

}  // namespace

const FileClassifier& refused_socket() {
  static const Socket c;
  return c;
}
const FileClassifier& refused_anon_inode() {
  static const AnonInode c;
  return c;
}
const FileClassifier& refused_memfd() {
  static const Memfd c;
  return c;
}
const FileClassifier& refused_pipe() {
  static const Pipe c;
  return c;
}
const FileClassifier& refused_char_device() {
  static const CharDevice c;
  return c;
}
const FileClassifier& refused_other() {
  static const Other c;
  return c;
}

}  // namespace ckpt::files
