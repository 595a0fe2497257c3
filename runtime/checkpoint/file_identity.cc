#include "runtime/checkpoint/file_identity.h"

#include <linux/kcmp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <map>
#include <string>
#include <utility>

#include "common/error.h"

namespace ckpt::checkpoint {

bool KcmpIdentity::same_description(const FdRef& a, const FdRef& b) {
  long r = ::syscall(SYS_kcmp, a.host_pid, b.host_pid, KCMP_FILE, a.fd, b.fd);
  if (r < 0) {
    throw Error("kcmp(KCMP_FILE) of pid " + std::to_string(a.host_pid) + " fd " +
                    std::to_string(a.fd) + " and pid " + std::to_string(b.host_pid) + " fd " +
                    std::to_string(b.fd),
                errno, errno == ENOSYS ? "the kernel needs CONFIG_KCMP (CONFIG_CHECKPOINT_RESTORE)" : "");
  }
  return r == 0;
}

std::vector<size_t> group_descriptions(const std::vector<FdRef>& fds, FileIdentity& identity) {
  // Per inode: the index in `fds` of one holder of each description found on it so far.
  std::map<std::pair<dev_t, ino_t>, std::vector<size_t>> representatives;
  std::vector<size_t> out(fds.size());
  size_t next = 0;
  for (size_t i = 0; i < fds.size(); ++i) {
    std::vector<size_t>& known = representatives[{fds[i].dev, fds[i].ino}];
    bool found = false;
    for (size_t rep : known) {
      if (identity.same_description(fds[rep], fds[i])) {
        out[i] = out[rep];
        found = true;
        break;
      }
    }
    if (found) continue;
    out[i] = next++;
    known.push_back(i);
  }
  return out;
}

}  // namespace ckpt::checkpoint
