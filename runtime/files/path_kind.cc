#include "runtime/files/path_kind.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/error.h"
#include "runtime/checkpoint/vma_classify.h"

namespace ckpt::files {

std::optional<Verdict> container_path_of(const checkpoint::FdFacts& facts, const std::string& root,
                                         std::string& out) {
  std::string link = facts.link;
  if (link.ends_with(kDeletedSuffix)) link.resize(link.size() - kDeletedSuffix.size());
  if (link.empty() || link.front() != '/') return Verdict::refused("no path to reopen it by");
  out = checkpoint::container_path(link, root);
  if (out.empty()) {
    return Verdict::refused("the file is outside the container's root " + root +
                            "; close it or move it inside");
  }
  return std::nullopt;
}

int reopen_flags(int flags, bool directory) {
  // __O_TMPFILE is O_TMPFILE without its O_DIRECTORY bit (fcntl.h defines O_TMPFILE as both).
  constexpr int kTmpfileBit = O_TMPFILE & ~O_DIRECTORY;
  int out = flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_CLOEXEC | kTmpfileBit);
  if (!directory) out &= ~O_DIRECTORY;
  return out | O_CLOEXEC;
}

UniqueFd open_in_root(int root, const std::string& path, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags);
  how.resolve = RESOLVE_IN_ROOT;
  for (int attempt = 0;; ++attempt) {
    long fd = ::syscall(SYS_openat2, root, path.c_str(), &how, sizeof how);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    // EAGAIN: a rename or mount raced the lookup (openat2(2)); nothing of the container runs
    // during a restore, so a retry or two settles it.
    if ((errno == EINTR || errno == EAGAIN) && attempt < 8) continue;
    throw sys_error("open " + path);
  }
}

void seek_to(int fd, int flags, uint64_t pos, const std::string& what) {
  if ((flags & O_PATH) != 0) return;
  if (::lseek(fd, static_cast<off_t>(pos), SEEK_SET) < 0)
    throw sys_error("lseek " + what + " to offset " + std::to_string(pos));
}

Verdict PathKind::capture(const Description& d, const ClassifyEnv& env, model::File& out) const {
  std::string path;
  if (std::optional<Verdict> refused = container_path_of(d.facts, env.root, path)) return *refused;
  out.kind = kind();
  out.flags = d.facts.info.flags & ~O_CLOEXEC;
  out.pos = has_offset() ? d.facts.info.pos : 0;
  out.path = path;
  return Verdict::capturable();
}

UniqueFd PathKind::open(RestoreEnv& env, const model::File& file) const {
  bool dir = kind() == model::FileKind::directory;
  UniqueFd fd = open_in_root(env.root, file.path, reopen_flags(file.flags, dir));
  if (has_offset()) seek_to(fd.get(), file.flags, file.pos, file.path);
  return fd;
}

void PathKind::to_json(const model::File& file, nlohmann::json& out) const {
  out["path"] = file.path;
}

void PathKind::from_json(const nlohmann::json& in, model::File& file) const {
  file.path = in.at("path").get<std::string>();
}

}  // namespace ckpt::files
