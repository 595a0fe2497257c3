// Mount option strings ("ro", "nosuid", "size=64m", ...) as mount(2) sees them: MS_* flags and
// the file-system data string. Pure logic, unit-tested without privileges.
#pragma once

#include <string>
#include <vector>

namespace ckpt::ns {

struct MountOptions {
  unsigned long flags = 0;        // MS_RDONLY, MS_NOSUID, ... (never MS_BIND/MS_REC)
  unsigned long propagation = 0;  // MS_PRIVATE/MS_SLAVE/MS_SHARED/MS_UNBINDABLE, | MS_REC
  bool recursive = false;         // "rbind"
  std::string data;               // options the kernel flags do not cover, comma-joined
};

// Later options win ("ro,rw" is rw), as with mount(8). Unknown options go to `data`, where the
// file system decides (tmpfs takes size=, mode=, uid=; a bind mount takes none).
MountOptions parse_mount_options(const std::vector<std::string>& options);

}  // namespace ckpt::ns
