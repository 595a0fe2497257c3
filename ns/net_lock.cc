#include "ns/net_lock.h"

#include <time.h>

#include "common/error.h"
#include "common/file_lock.h"
#include "common/file_util.h"

namespace ckpt::ns {

HostNetworkLock::HostNetworkLock(std::chrono::milliseconds timeout, const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) make_dirs(path.substr(0, slash), 0700);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  // Polled rather than a blocking flock: a holder stopped by a debugger or SIGSTOP must turn
  // into an error, not a `run` that hangs.
  for (;;) {
    fd_ = try_lock_file(path);
    if (fd_) return;
    if (std::chrono::steady_clock::now() > deadline)
      throw Error("the host network lock " + path + " is held by another crun-ckpt for " +
                      std::to_string(timeout.count() / 1000) + " s",
                  EWOULDBLOCK, "find its holder with `fuser " + path + "`");
    struct timespec nap = {0, 2'000'000};
    ::nanosleep(&nap, nullptr);
  }
}

}  // namespace ckpt::ns
