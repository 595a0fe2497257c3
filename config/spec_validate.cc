#include "config/spec_validate.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "common/error.h"
#include "config/parse_values.h"

namespace ckpt::config {
namespace {

// The kernel accepts at most 340 lines in uid_map/gid_map (user_namespaces(7), since 4.15).
constexpr size_t kMaxMappings = 340;
constexpr IdMapping kDefaultMapping{0, 100000, 65536};

[[noreturn]] void fail(const KeyLocator& where, const std::string& key, std::string problem,
                       std::string hint = {}) {
  throw Error(std::move(problem), 0, std::move(hint)).context(where(key));
}

// Runs a parse_values check, prefixing its error with the key's location.
template <typename Fn>
auto at(const KeyLocator& where, const std::string& key, Fn&& fn) {
  return with_context(where(key), std::forward<Fn>(fn));
}

std::string indexed(const std::string& key, size_t i) {
  return key + "[" + std::to_string(i) + "]";
}

void finish_identity(ContainerSpec& spec, const KeyLocator& where) {
  at(where, "name", [&] { check_container_id(spec.name); });
  if (spec.hostname.empty()) {
    try {
      check_hostname(spec.name);
    } catch (const Error& e) {
      fail(where, "name", e.message() + ", and hostname defaults to name",
           "set hostname: explicitly");
    }
    spec.hostname = spec.name;
  }
  at(where, "hostname", [&] { check_hostname(spec.hostname); });
}

void finish_process(Process& p, const KeyLocator& where) {
  if (p.args.empty()) fail(where, "process.args", "must not be empty", "give the program first");
  if (p.args[0].empty()) fail(where, "process.args[0]", "the program must not be empty");
  for (size_t i = 0; i < p.env.size(); ++i) {
    size_t eq = p.env[i].find('=');
    if (eq == std::string::npos || eq == 0) {
      fail(where, indexed("process.env", i), "'" + p.env[i] + "' is not NAME=VALUE");
    }
  }
  p.cwd = at(where, "process.cwd", [&] { return normalize_absolute_path(p.cwd); });
  // (uid_t)-1 means "leave unchanged" to setresuid(2): it cannot be a container user.
  if (p.user.uid == UINT32_MAX) fail(where, "process.user.uid", "4294967295 is not a valid uid");
  if (p.user.gid == UINT32_MAX) fail(where, "process.user.gid", "4294967295 is not a valid gid");
}

void finish_namespaces(ContainerSpec& spec, const KeyLocator& where) {
  for (size_t i = 0; i < spec.namespaces.size(); ++i) {
    if (std::count(spec.namespaces.begin(), spec.namespaces.begin() + i, spec.namespaces[i])) {
      fail(where, indexed("namespaces", i),
           std::string("'") + namespace_name(spec.namespaces[i]) + "' is listed twice");
    }
  }
  for (Namespace needed : {Namespace::pid, Namespace::mount}) {
    if (!spec.has(needed)) {
      fail(where, "namespaces", std::string("'") + namespace_name(needed) + "' is missing",
           "the runtime needs its own pid and mount namespaces to checkpoint a container");
    }
  }
}

bool mapped(const std::vector<IdMapping>& maps, uint32_t id) {
  return std::any_of(maps.begin(), maps.end(), [&](const IdMapping& m) {
    return id >= m.container_id && id - m.container_id < m.size;
  });
}

void check_mappings(const std::vector<IdMapping>& maps, const std::string& key,
                    const KeyLocator& where) {
  if (maps.size() > kMaxMappings) {
    fail(where, key, "has " + std::to_string(maps.size()) + " ranges", "the kernel allows 340");
  }
  auto overlap = [](uint64_t a, uint64_t b, uint32_t size_a, uint32_t size_b) {
    return a < b + size_b && b < a + size_a;
  };
  for (size_t i = 0; i < maps.size(); ++i) {
    const IdMapping& m = maps[i];
    std::string k = indexed(key, i);
    if (m.size == 0) fail(where, k + ".size", "must be at least 1");
    if (uint64_t{m.container_id} + m.size > (uint64_t{1} << 32) ||
        uint64_t{m.host_id} + m.size > (uint64_t{1} << 32)) {
      fail(where, k + ".size", "the range goes past id 4294967295");
    }
    for (size_t j = 0; j < i; ++j) {
      // The kernel refuses a map whose ranges overlap on either side (EINVAL from the write).
      if (overlap(m.container_id, maps[j].container_id, m.size, maps[j].size) ||
          overlap(m.host_id, maps[j].host_id, m.size, maps[j].size)) {
        fail(where, k, "overlaps " + indexed(key, j), "ranges must be disjoint on both sides");
      }
    }
  }
}

void finish_user(ContainerSpec& spec, const KeyLocator& where) {
  if (!spec.has(Namespace::user)) {
    if (!spec.uid_mappings.empty()) {
      fail(where, "uid_mappings", "needs the user namespace", "add user to namespaces");
    }
    if (!spec.gid_mappings.empty()) {
      fail(where, "gid_mappings", "needs the user namespace", "add user to namespaces");
    }
    return;
  }
  if (spec.uid_mappings.empty()) spec.uid_mappings = {kDefaultMapping};
  if (spec.gid_mappings.empty()) spec.gid_mappings = {kDefaultMapping};
  check_mappings(spec.uid_mappings, "uid_mappings", where);
  check_mappings(spec.gid_mappings, "gid_mappings", where);
  const User& u = spec.process.user;
  if (!mapped(spec.uid_mappings, u.uid)) {
    fail(where, "process.user.uid", std::to_string(u.uid) + " is not mapped by uid_mappings");
  }
  if (!mapped(spec.gid_mappings, u.gid)) {
    fail(where, "process.user.gid", std::to_string(u.gid) + " is not mapped by gid_mappings");
  }
  for (size_t i = 0; i < u.additional_gids.size(); ++i) {
    if (!mapped(spec.gid_mappings, u.additional_gids[i])) {
      fail(where, indexed("process.user.additional_gids", i),
           std::to_string(u.additional_gids[i]) + " is not mapped by gid_mappings");
    }
  }
}

bool known_flag_option(const std::string& opt) {
  static const std::set<std::string> kFlags = {
      "ro",         "rw",         "nosuid",      "suid",          "nodev",      "dev",
      "noexec",     "exec",       "bind",        "rbind",         "private",    "rprivate",
      "shared",     "rshared",    "slave",       "rslave",        "unbindable", "runbindable",
      "relatime",   "norelatime", "strictatime", "nostrictatime", "noatime",    "atime",
      "nodiratime", "diratime",   "sync",        "async",         "dirsync"};
  return kFlags.count(opt) != 0;
}

void finish_mount(Mount& m, const std::string& key, const KeyLocator& where) {
  static const std::set<std::string> kTypes = {"bind", "tmpfs", "proc", "sysfs", "mqueue"};
  if (!kTypes.count(m.type)) {
    fail(where, key + ".type", "'" + m.type + "' is not a supported mount type",
         "use bind, tmpfs, proc, sysfs or mqueue");
  }
  m.destination =
      at(where, key + ".destination", [&] { return normalize_absolute_path(m.destination); });
  if (m.destination == "/") {
    fail(where, key + ".destination", "cannot mount over the container root",
         "set rootfs.path instead");
  }
  if (m.type == "bind") {
    if (m.source.empty()) fail(where, key + ".source", "a bind mount needs a source");
    m.source = at(where, key + ".source", [&] { return normalize_absolute_path(m.source); });
  } else if (m.type == "tmpfs" && !m.source.empty()) {
    fail(where, key + ".source", "a tmpfs mount takes no source", "remove source");
  }
  for (size_t i = 0; i < m.options.size(); ++i) {
    const std::string& opt = m.options[i];
    bool data = opt.find('=') != std::string::npos && opt.find('=') > 0;
    if (opt.find(',') != std::string::npos) {
      fail(where, indexed(key + ".options", i), "'" + opt + "' contains a comma",
           "give each option as its own list item");
    }
    if (data && m.type == "bind") {
      fail(where, indexed(key + ".options", i), "'" + opt + "' does not apply to a bind mount");
    }
    if (!data && !known_flag_option(opt)) {
      fail(where, indexed(key + ".options", i), "'" + opt + "' is not a known mount option",
           "use ro, rw, nosuid, nodev, noexec, rbind, noatime, ... or key=value for tmpfs");
    }
  }
}

void finish_mounts(ContainerSpec& spec, const KeyLocator& where) {
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    finish_mount(spec.mounts[i], indexed("mounts", i), where);
    for (size_t j = 0; j < i; ++j) {
      if (spec.mounts[j].destination == spec.mounts[i].destination) {
        fail(where, indexed("mounts", i) + ".destination",
             "'" + spec.mounts[i].destination + "' is also the destination of " +
                 indexed("mounts", j));
      }
    }
  }
}

void finish_network(ContainerSpec& spec, const KeyLocator& where) {
  auto& ifs = spec.network.interfaces;
  if (!ifs.empty() && !spec.has(Namespace::net)) {
    fail(where, "network.interfaces", "needs the net namespace",
         "add net to namespaces, or remove the interfaces");
  }
  int gateway_index = -1;
  for (size_t i = 0; i < ifs.size(); ++i) {
    Interface& itf = ifs[i];
    std::string key = indexed("network.interfaces", i);
    at(where, key + ".name", [&] { check_interface_name(itf.name); });
    if (!itf.mac) itf.mac = mac_from_ipv4(itf.address.address);
    if (itf.gateway) {
      if (!cidr_contains(itf.address, *itf.gateway) || itf.address.prefix == 32) {
        fail(where, key + ".gateway",
             itf.gateway->str() + " is outside the subnet of " + itf.address.str(),
             "use an address inside the interface's subnet");
      }
      if (*itf.gateway == itf.address.address ||
          is_network_or_broadcast(itf.address, *itf.gateway)) {
        fail(where, key + ".gateway",
             itf.gateway->str() + " cannot be the gateway of " + itf.address.str(),
             "use another host address of the subnet");
      }
      // Each gateway becomes a default route; two of them collide (EEXIST from the kernel).
      if (gateway_index >= 0) {
        fail(where, key + ".gateway",
             "only one interface may have a gateway, and " +
                 indexed("network.interfaces", gateway_index) + " has one already");
      }
      gateway_index = static_cast<int>(i);
    }
    for (size_t j = 0; j < i; ++j) {
      if (ifs[j].name == itf.name) {
        fail(where, key + ".name",
             "'" + itf.name + "' is also the name of " + indexed("network.interfaces", j));
      }
      if (ifs[j].address.address == itf.address.address) {
        fail(where, key + ".address",
             itf.address.address.str() + " is also the address of " +
                 indexed("network.interfaces", j));
      }
      if (ifs[j].mac == itf.mac) {
        fail(where, key + ".mac",
             itf.mac->str() + " is also the MAC of " + indexed("network.interfaces", j));
      }
    }
  }
}

void finish_resources(Resources& r, const KeyLocator& where) {
  if (r.memory_bytes && *r.memory_bytes == 0) fail(where, "resources.memory", "must not be 0");
  if (r.pids && *r.pids == 0) fail(where, "resources.pids", "must not be 0");
  // cpu.max needs a quota of at least 1000us; with the 100000us period that is 0.01 CPUs.
  if (r.cpus && (!std::isfinite(*r.cpus) || *r.cpus < 0.01 || *r.cpus > 1e6)) {
    fail(where, "resources.cpu", "must be a number of CPUs between 0.01 and 1000000",
         "e.g. 0.5 or 2");
  }
}

void finish_rlimits(std::vector<Rlimit>& rlimits, const KeyLocator& where) {
  for (size_t i = 0; i < rlimits.size(); ++i) {
    Rlimit& r = rlimits[i];
    std::string key = "rlimits." + r.name;
    r.resource = at(where, key, [&] { return rlimit_resource(r.name); });
    for (size_t j = 0; j < i; ++j) {
      if (rlimits[j].name == r.name) fail(where, key, "is given twice");
    }
    if (r.soft > r.hard) {
      fail(
          where, key,
          "soft limit " + std::to_string(r.soft) + " is above hard limit " + std::to_string(r.hard),
          "make soft <= hard");
    }
  }
}

}  // namespace

void finish_spec(ContainerSpec& spec, const KeyLocator& where) {
  finish_identity(spec, where);
  finish_process(spec.process, where);
  spec.rootfs.path =
      at(where, "rootfs.path", [&] { return normalize_absolute_path(spec.rootfs.path); });
  finish_namespaces(spec, where);
  finish_user(spec, where);
  finish_mounts(spec, where);
  finish_network(spec, where);
  finish_resources(spec.resources, where);
  finish_rlimits(spec.rlimits, where);
}

}  // namespace ckpt::config
