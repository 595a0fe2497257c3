#include <unistd.h>

#include "common/error.h"
#include "ns/rootfs.h"

namespace ckpt::ns {

void set_hostname(const std::string& hostname) {
  // HOST_NAME_MAX is 64; sethostname would say only EINVAL.
  if (hostname.size() > 64)
    throw Error("hostname \"" + hostname + "\" is longer than 64 characters", EINVAL,
                "shorten hostname in the spec");
  check_sys(sethostname(hostname.data(), hostname.size()),
            "set the hostname to \"" + hostname + "\"");
}

}  // namespace ckpt::ns
