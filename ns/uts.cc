#include "ns/uts.h"

#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/error.h"
#include "ns/in_namespace.h"
#include "ns/rootfs.h"

namespace ckpt::ns {

UtsNames read_uts_names(pid_t pid) {
  UtsNames names;
  with_context("read the hostname of pid " + std::to_string(pid), [&] {
    in_namespace_of(pid, CLONE_NEWUTS, [&] {
      struct utsname u {};
      check_sys(::uname(&u), "uname");
      names.hostname = u.nodename;
      names.domainname = u.domainname;
    });
  });
  return names;
}

void set_uts_names(const UtsNames& names) {
  set_hostname(names.hostname);
  // __NEW_UTS_LEN is 64, as for the hostname; setdomainname would say only EINVAL.
  if (names.domainname.size() > 64)
    throw Error("domainname \"" + names.domainname + "\" is longer than 64 characters", EINVAL);
  check_sys(::setdomainname(names.domainname.data(), names.domainname.size()),
            "set the domainname to \"" + names.domainname + "\"");
}

}  // namespace ckpt::ns
