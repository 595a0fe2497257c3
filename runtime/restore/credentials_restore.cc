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
//
// In a user namespace the ids are the image's inside ids (the dump translated them), set from
// inside by the stub, which is the namespace's root with every capability in it. What the
// kernel allows there decides the groups (plan_groups): the stub's own groups, inherited from
// the restorer, are kept when they are already the dumped ones.
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cstdio>
#include <sstream>

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

// What the stub holds now, from /proc/PID/status (ids in our, the host's, view).
struct StubCredentials {
  uint64_t permitted = 0;
  std::vector<uint32_t> groups;
};

StubCredentials current_credentials(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/status";
  StubCredentials out;
  bool have_caps = false;
  for_each_proc_field(read_file(path), [&](const std::string& key, const std::string& value) {
    if (key == "CapPrm") {
      out.permitted = with_context(path, [&] {
        return parse_number<uint64_t>(value, "CapPrm", NumberBase::hex);
      });
      have_caps = true;
    } else if (key == "Groups") {
      out.groups = with_context(path, [&] { return parse_numbers<uint32_t>(value, "Groups"); });
    }
  });
  if (!have_caps) throw Error("no CapPrm in " + path);
  return out;
}

std::string ids_text(const std::vector<uint32_t>& ids) {
  if (ids.empty()) return "none";
  std::string out;
  for (uint32_t id : ids) out += (out.empty() ? "" : ",") + std::to_string(id);
  return out;
}

void restore_groups(ProcessContext& ctx, const std::vector<uint32_t>& stub_groups) {
  const model::Process& p = ctx.process;
  model::SplitGroups now = ctx.user_namespace
                               ? model::split_groups(ctx.user_namespace->gid_map, stub_groups)
                               : model::SplitGroups{stub_groups, {}};
  bool allowed = ctx.user_namespace == nullptr || ctx.user_namespace->setgroups_allowed;
  GroupsStep step = plan_groups(p, now, allowed);
  if (step.kind == GroupsStep::Kind::refuse) throw Error(step.reason);
  if (step.kind == GroupsStep::Kind::keep) return;
  uint64_t groups = ctx.put(p.groups.data(), p.groups.size() * sizeof(uint32_t));
  ctx.remote.check("setgroups", SYS_setgroups, p.groups.size(), groups);
}

int last_cap() {
  const std::string path = "/proc/sys/kernel/cap_last_cap";
  std::string text = read_file(path);
  return with_context(path, [&] { return parse_number<int>(trim(text), "cap_last_cap", 0, 63); });
}

}  // namespace

GroupsStep plan_groups(const model::Process& p, const model::SplitGroups& now,
                       bool setgroups_allowed) {
  std::vector<uint32_t> want = p.groups;
  std::sort(want.begin(), want.end());
  if (now.mapped == want && now.unmapped == p.unmapped_groups) return {GroupsStep::Kind::keep, {}};
  std::string has = "the restoring process gave it " + ids_text(now.mapped) +
                    (now.unmapped.empty() ? "" : " and host gids " + ids_text(now.unmapped));
  const char* todo =
      "; run the restore with the supplementary groups the container was started with";
  if (!p.unmapped_groups.empty()) {
    return {GroupsStep::Kind::refuse,
            "its supplementary groups include host gids " + ids_text(p.unmapped_groups) +
                ", which the user namespace does not map, so only inheritance can give them, and " +
                has + todo};
  }
  if (!setgroups_allowed) {
    return {GroupsStep::Kind::refuse,
            "its supplementary groups " + ids_text(want) +
                " cannot be set in a user namespace whose setgroups is deny, and " + has + todo};
  }
  return {GroupsStep::Kind::set, {}};
}

void restore_credentials(ProcessContext& ctx) {
  const model::Process& p = ctx.process;
  int last = last_cap();
  // What the stub holds now (root's set, possibly without some caps): it can only shrink.
  StubCredentials stub = current_credentials(ctx.host_pid);
  uint64_t held = stub.permitted;
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
  restore_groups(ctx, stub.groups);
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
