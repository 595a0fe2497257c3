#include "runtime/checkpoint/file_identity.h"

#include <linux/kcmp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <map>
#include <string>
#include <utility>

#include "common/error.h"

namespace ckpt::checkpoint {

int KcmpIdentity::compare(const FdRef& a, const FdRef& b) {
  long r = ::syscall(SYS_kcmp, a.host_pid, b.host_pid, KCMP_FILE, a.fd, b.fd);
  if (r < 0) {
    throw Error(
        "kcmp(KCMP_FILE) of pid " + std::to_string(a.host_pid) + " fd " + std::to_string(a.fd) +
            " and pid " + std::to_string(b.host_pid) + " fd " + std::to_string(b.fd),
        errno, errno == ENOSYS ? "the kernel needs CONFIG_KCMP (CONFIG_CHECKPOINT_RESTORE)" : "");
  }
  return r == 0 ? 0 : r == 1 ? -1 : 1;
}

std::vector<size_t> group_descriptions(const std::vector<FdRef>& fds, FileIdentity& identity) {
  // Per inode: one holder (index in `fds`) of each description found on it so far, sorted by
  // the identity's order.
  std::map<std::pair<dev_t, ino_t>, std::vector<size_t>> representatives;
  std::vector<size_t> out(fds.size());
  size_t next = 0;
  for (size_t i = 0; i < fds.size(); ++i) {
    std::vector<size_t>& known = representatives[{fds[i].dev, fds[i].ino}];
    size_t lo = 0, hi = known.size();
    bool found = false;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      int c = identity.compare(fds[known[mid]], fds[i]);
      if (c == 0) {
        out[i] = out[known[mid]];
        found = true;
        break;
      }
      if (c < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (found) continue;
    out[i] = next++;
    known.insert(known.begin() + static_cast<std::ptrdiff_t>(lo), i);
  }
  return out;
}

}  // namespace ckpt::checkpoint
