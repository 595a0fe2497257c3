// Regular files reachable by a path inside the container: reopened by that path with the
// description's flags, offset put back. Deleted ones are ghost_file.cc's.
#include <sys/stat.h>

#include "runtime/files/file_kinds.h"
#include "runtime/files/path_kind.h"

namespace ckpt::files {

namespace {

class RegularFile final : public PathKind {
 public:
  model::FileKind kind() const override { return model::FileKind::regular; }
  const char* name() const override { return "regular"; }
  std::optional<Verdict> classify(const Description& d, ClassifyEnv& env,
                                  model::File& out) const override {
    if (!S_ISREG(d.facts.mode)) return std::nullopt;
    return capture(d, env, out);
  }
};

}  // namespace

const FileKindHandler& regular_file() {
  static const RegularFile handler;
  return handler;
}

}  // namespace ckpt::files
