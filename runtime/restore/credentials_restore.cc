// Credentials: groups, uids/gids, capability sets, securebits, no_new_privs. The stub runs as
// root with every capability; the dumped process may not, so this is the last privileged
// stage (only the unmapping of the code page and ptrace-side register loads follow).
//
// Order (capabilities(7)): SECBIT_NO_SETUID_FIXUP first, so changing uids does not strip the
// capabilities still needed; drop the bounding set while CAP_SETPCAP is effective; change
// groups and ids; set the inheritable set, then the ambient set (a cap must be permitted and
// inheritable to be raised); set the dumped securebits (needs CAP_SETPCAP); finally capset the
// dumped sets, which may remove CAP_SETPCAP itself; no_new_privs and dumpable last, because a
// uid change resets dumpable.
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <cstdio>

#include "common/error.h"
#include "common/file_util.h"
#include "common/parse_number.h"
#include "runtime/restore/restore_context.h"

namespace ckpt::restore {

namespace {

void capset(ProcessContext& ctx, uint64_t eff, uint64_t perm, uint64_t inh) {
  struct {
    __user_cap_header_struct header;
    __user_cap_data_struct data[2];
  } caps{};
  caps.header.version = _LINUX_CAPABILITY_VERSION_3;
  caps.header.pid = 0;
  caps.data[0] = {static_cast<uint32_t>(eff), static_cast<uint32_t>(perm),
                  static_cast<uint32_t>(inh)};
  caps.data[1] = {static_cast<uint32_t>(eff >> 32), static_cast<uint32_t>(perm >> 32),
                  static_cast<uint32_t>(inh >> 32)};
  uint64_t addr = ctx.put(&caps, sizeof(caps));
  ctx.remote.check("capset", SYS_capset, addr, addr + sizeof(caps.header));
}

uint64_t current_permitted(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/status";
  for (const std::string& line : split(read_file(path), '\n')) {
    if (line.rfind("CapPrm:", 0) == 0) {
      return with_context(path, [&] {
        return parse_number<uint64_t>(trim(line.substr(7)), "CapPrm", NumberBase::hex);
      });
    }
  }
  throw Error("no CapPrm in " + path);
}

int last_cap() {
  const std::string path = "/proc/sys/kernel/cap_last_cap";
  std::string text = read_file(path);
  return with_context(path, [&] { return parse_number<int>(trim(text), "cap_last_cap", 0, 63); });
}

}  // namespace

void restore_credentials(ProcessContext& ctx) {
  const model::Process& p = ctx.process;
  int last = last_cap();
  // What the stub holds now (root's set, possibly without some caps): it can only shrink.
  uint64_t held = current_permitted(ctx.host_pid);
  if ((p.cap_permitted & ~held) != 0) {
    char buf[128];
    std::snprintf(buf, sizeof(buf), "the image's permitted capabilities %#llx exceed ours %#llx",
                  static_cast<unsigned long long>(p.cap_permitted),
                  static_cast<unsigned long long>(held));
    throw Error(buf).with_hint("restore with the privileges the dumped process had");
  }

  ctx.remote.check("prctl(PR_SET_SECUREBITS)", SYS_prctl, PR_SET_SECUREBITS,
                   1u << 2 /* SECBIT_NO_SETUID_FIXUP */);
  for (int cap = 0; cap <= last; ++cap) {
    if ((p.cap_bounding & (1ull << cap)) == 0) {
      ctx.remote.check("prctl(PR_CAPBSET_DROP)", SYS_prctl, PR_CAPBSET_DROP, cap);
    }
  }
  uint64_t groups = ctx.put(p.groups.data(), p.groups.size() * sizeof(uint32_t));
  ctx.remote.check("setgroups", SYS_setgroups, p.groups.size(), groups);
  ctx.remote.check("setresgid", SYS_setresgid, p.gid[0], p.gid[1], p.gid[2]);
  ctx.remote.check("setresuid", SYS_setresuid, p.uid[0], p.uid[1], p.uid[2]);
  ctx.remote.call(SYS_setfsgid, p.gid[3]);  // returns the previous fsgid, never an error
  ctx.remote.call(SYS_setfsuid, p.uid[3]);

  capset(ctx, held, held, p.cap_inheritable);
  ctx.remote.check("prctl(PR_CAP_AMBIENT_CLEAR_ALL)", SYS_prctl, PR_CAP_AMBIENT,
                   PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  for (int cap = 0; cap <= last; ++cap) {
    if (p.cap_ambient & (1ull << cap)) {
      ctx.remote.check("prctl(PR_CAP_AMBIENT_RAISE)", SYS_prctl, PR_CAP_AMBIENT,
                       PR_CAP_AMBIENT_RAISE, cap, 0, 0);
    }
  }
  ctx.remote.check("prctl(PR_SET_SECUREBITS)", SYS_prctl, PR_SET_SECUREBITS, p.securebits);
  capset(ctx, p.cap_effective, p.cap_permitted, p.cap_inheritable);

  if (p.no_new_privs) {
    ctx.remote.check("prctl(PR_SET_NO_NEW_PRIVS)", SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  }
  ctx.remote.check("prctl(PR_SET_DUMPABLE)", SYS_prctl, PR_SET_DUMPABLE, p.dumpable);
}

}  // namespace ckpt::restore
