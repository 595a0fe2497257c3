// Stdio the container got from outside: a pipe to whoever started it, a terminal, /dev/null,
// or the log file the runtime opened for a detached container. The image cannot hold the other
// end, so, as runc and crun pass the console or the caller's fds, the restore stands its own
// stdio in: its init's fd 0, 1 or 2, taken with pidfd_getfd(2), installed in every fd that held
// the description (an `exec 5>&1` keeps sharing with fd 1).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "common/error.h"
#include "runtime/files/file_kinds.h"

namespace ckpt::files {

namespace {

const char* const kSlots[] = {"stdin", "stdout", "stderr"};

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

int slot_number(const std::string& name) {
  for (int i = 0; i < 3; ++i)
    if (name == kSlots[i]) return i;
  return -1;
}

class ExternalFile final : public FileKindHandler {
 public:
  model::FileKind kind() const override { return model::FileKind::external; }
  const char* name() const override { return "external"; }

  std::optional<Verdict> classify(const Description& d, ClassifyEnv& env,
                                  model::File& out) const override {
    int slot = d.stdio_slot();
    if (slot < 0) return std::nullopt;
    const checkpoint::FdFacts& f = d.facts;
    bool outside_pipe =
        S_ISFIFO(f.mode) && starts_with(f.link, "pipe:") && !env.pipes.internal(f.ino);
    bool given_as_stdio =
        S_ISREG(f.mode) && std::find(env.external_stdio.begin(), env.external_stdio.end(),
                                     checkpoint::FileId{f.dev, f.ino}) != env.external_stdio.end();
    // Any character device as stdio (a terminal, /dev/null) is the caller's to provide again.
    if (!outside_pipe && !given_as_stdio && !S_ISCHR(f.mode)) return std::nullopt;
    out.kind = model::FileKind::external;
    out.flags = f.info.flags & ~O_CLOEXEC;
    out.stdio = kSlots[slot];
    out.was = f.link;
    return Verdict::capturable();
  }

  UniqueFd open(RestoreEnv& env, const model::File& file) const override {
    int slot = slot_number(file.stdio);
    if (slot < 0) throw Error("external file " + std::to_string(file.id) + " names no stdio");
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, env.init_host_pid, 0)));
    if (!pidfd)
      throw sys_error("pidfd_open of the restore's init " + std::to_string(env.init_host_pid));
    long fd = ::syscall(SYS_pidfd_getfd, pidfd.get(), slot, 0);
    if (fd < 0) {
      throw Error("the container's " + file.stdio + " was given from outside (" + file.was +
                      "), but the restore's init has no fd " + std::to_string(slot),
                  errno, "give the restore a " + file.stdio);
    }
    return UniqueFd(static_cast<int>(fd));
  }

  std::string describe(const model::File& file, const model::Checkpoint&) const override {
    return "the restore's " + file.stdio + " (was " + file.was + ")";
  }

  void to_json(const model::File& file, nlohmann::json& out) const override {
    out["stdio"] = file.stdio;
    out["was"] = file.was;
  }
  void from_json(const nlohmann::json& in, model::File& file) const override {
    file.stdio = in.at("stdio").get<std::string>();
    if (slot_number(file.stdio) < 0)
      throw Error("checkpoint model: external file with stdio '" + file.stdio + "'");
    file.was = in.value("was", std::string());
  }
};

}  // namespace

const FileKindHandler& external_file() {
  static const ExternalFile handler;
  return handler;
}

}  // namespace ckpt::files
