// Directories open as fds (openat bases, getdents readers): reopened by path, offset (the
// getdents position cookie of the same directory) put back.
#include <sys/stat.h>

#include "runtime/files/file_kinds.h"
#include "runtime/files/path_kind.h"

namespace ckpt::files {

namespace {

class DirectoryFile final : public PathKind {
 public:
  model::FileKind kind() const override { return model::FileKind::directory; }
  const char* name() const override { return "directory"; }
  std::optional<Verdict> classify(const Description& d, ClassifyEnv& env,
                                  model::File& out) const override {
    if (!S_ISDIR(d.facts.mode)) return std::nullopt;
    if (d.facts.link.ends_with(kDeletedSuffix)) {
      return Verdict::refused("the directory was deleted; it cannot be opened again at restore");
    }
    return capture(d, env, out);
  }
};

}  // namespace

const FileKindHandler& directory_file() {
  static const DirectoryFile handler;
  return handler;
}

}  // namespace ckpt::files
