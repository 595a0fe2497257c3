// The names of a UTS namespace (uts_namespaces(7)): hostname and NIS domain name. A container
// may change them at run time (hostname(1), domainname(1)); a checkpoint reads them as they are
// and a restore sets them again in the new namespace.
#pragma once

#include <sys/types.h>

#include <string>

namespace ckpt::ns {

struct UtsNames {
  std::string hostname;
  std::string domainname;

  bool operator==(const UtsNames&) const = default;
};

// The names in the UTS namespace of process `pid`, read with uname(2) from a thread that has
// entered it (in_namespace.h).
UtsNames read_uts_names(pid_t pid);

// Sets both names in the caller's UTS namespace (the container's first process, before exec).
// Each is at most 64 bytes (__NEW_UTS_LEN); longer is refused with one line naming which.
void set_uts_names(const UtsNames& names);

}  // namespace ckpt::ns
