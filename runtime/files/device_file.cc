// Character devices that behave the same wherever they are opened again: the memory devices
// of major 1 (Documentation/admin-guide/devices.txt) /dev/null (3), /dev/zero (5), /dev/full
// (7), /dev/random (8) and /dev/urandom (9). Reopened by their path in the container's /dev;
// they have no offset worth keeping.
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "runtime/files/file_kinds.h"
#include "runtime/files/path_kind.h"

namespace ckpt::files {

namespace {

bool reopenable(dev_t rdev) {
  if (major(rdev) != 1) return false;
  unsigned minor_no = minor(rdev);
  return minor_no == 3 || minor_no == 5 || minor_no == 7 || minor_no == 8 || minor_no == 9;
}

class DeviceFile final : public PathKind {
 public:
  model::FileKind kind() const override { return model::FileKind::device; }
  const char* name() const override { return "device"; }
  std::optional<Verdict> classify(const Description& d, ClassifyEnv& env,
                                  model::File& out) const override {
    if (!S_ISCHR(d.facts.mode) || !reopenable(d.facts.rdev)) return std::nullopt;
    return capture(d, env, out);
  }

 protected:
  bool has_offset() const override { return false; }
};

}  // namespace

const FileKindHandler& device_file() {
  static const DeviceFile handler;
  return handler;
}

}  // namespace ckpt::files
