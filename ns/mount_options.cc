#include "ns/mount_options.h"

#include <sys/mount.h>

#include <string_view>

namespace ckpt::ns {
namespace {

struct FlagOption {
  std::string_view name;
  bool clear;  // the option removes the flag ("rw" clears MS_RDONLY)
  unsigned long flag;
};

constexpr FlagOption kFlagOptions[] = {
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"noatime", false, MS_NOATIME},
    {"atime", true, MS_NOATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"diratime", true, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"dirsync", false, MS_DIRSYNC},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
};

struct PropagationOption {
  std::string_view name;
  unsigned long flags;
};

constexpr PropagationOption kPropagationOptions[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

bool apply_flag(std::string_view opt, MountOptions& out) {
  for (const auto& f : kFlagOptions) {
    if (f.name != opt) continue;
    if (f.clear)
      out.flags &= ~f.flag;
    else
      out.flags |= f.flag;
    return true;
  }
  return false;
}

bool apply_propagation(std::string_view opt, MountOptions& out) {
  for (const auto& p : kPropagationOptions) {
    if (p.name != opt) continue;
    out.propagation = p.flags;
    return true;
  }
  return false;
}

}  // namespace

MountOptions parse_mount_options(const std::vector<std::string>& options) {
  MountOptions out;
  for (const auto& opt : options) {
    if (opt.empty() || opt == "defaults") continue;
    if (opt == "bind") {
      out.recursive = false;
    } else if (opt == "rbind") {
      out.recursive = true;
    } else if (!apply_flag(opt, out) && !apply_propagation(opt, out)) {
      if (!out.data.empty()) out.data += ',';
      out.data += opt;
    }
  }
  return out;
}

}  // namespace ckpt::ns
