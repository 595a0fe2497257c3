#include <fcntl.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <sched.h>

#include "common/error.h"
#include "common/file_util.h"
#include "ns/netlink.h"

namespace ckpt::ns::nl {
namespace {

// libnl folds kernel errnos into its own codes; give the user the errno back where one fits.
int errno_of(int nl_error) {
  switch (nl_error) {
    case NLE_EXIST:
      return EEXIST;
    case NLE_OBJ_NOTFOUND:
    case NLE_NODEV:
      return ENODEV;
    case NLE_PERM:
      return EPERM;
    case NLE_NOACCESS:
      return EACCES;
    case NLE_INVAL:
      return EINVAL;
    case NLE_BUSY:
      return EBUSY;
    case NLE_NOMEM:
      return ENOMEM;
    case NLE_AF_NOSUPPORT:
    case NLE_OPNOTSUPP:
      return EOPNOTSUPP;
    default:
      return 0;
  }
}

// Puts the calling thread back into its original network namespace on every exit path: a
// thread left in the container's namespace would create the host's links in the wrong place.
class NetnsReturn {
 public:
  explicit NetnsReturn(UniqueFd original) : original_(std::move(original)) {}
  NetnsReturn(const NetnsReturn&) = delete;
  NetnsReturn& operator=(const NetnsReturn&) = delete;
  ~NetnsReturn() noexcept(false) {
    if (setns(original_.get(), CLONE_NEWNET) < 0 && std::uncaught_exceptions() == 0)
      throw sys_error("return to the runtime's network namespace");
  }

 private:
  UniqueFd original_;
};

}  // namespace

void check(int rc, const std::string& what) {
  if (rc >= 0) return;
  int nl_error = -rc;
  Error e(what + ": " + nl_geterror(nl_error));
  if (int err = errno_of(nl_error); err != 0) e = Error(what, err);
  throw e;
}

Socket connect_route() {
  Socket sock(nl_socket_alloc());
  if (!sock) throw Error("allocate a netlink socket", ENOMEM);
  check(nl_connect(sock.get(), NETLINK_ROUTE), "connect a NETLINK_ROUTE socket");
  return sock;
}

Socket connect_route_in(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/ns/net";
  UniqueFd target = open_file(path, O_RDONLY);
  UniqueFd original = open_file("/proc/thread-self/ns/net", O_RDONLY);
  check_sys(setns(target.get(), CLONE_NEWNET), "enter the network namespace " + path);
  NetnsReturn back(std::move(original));
  return connect_route();
}

}  // namespace ckpt::ns::nl
