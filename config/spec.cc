#include "config/spec.h"

#include <algorithm>
#include <cstdio>

namespace ckpt::config {

std::string Ipv4Address::str() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", bytes[0], bytes[1], bytes[2], bytes[3]);
  return buf;
}

std::string Ipv4Cidr::str() const { return address.str() + "/" + std::to_string(prefix); }

std::string MacAddress::str() const {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2],
                bytes[3], bytes[4], bytes[5]);
  return buf;
}

bool ContainerSpec::has(Namespace ns) const {
  return std::find(namespaces.begin(), namespaces.end(), ns) != namespaces.end();
}

const char* namespace_name(Namespace ns) {
  switch (ns) {
    case Namespace::pid: return "pid";
    case Namespace::mount: return "mount";
    case Namespace::net: return "net";
    case Namespace::uts: return "uts";
    case Namespace::ipc: return "ipc";
    case Namespace::time: return "time";
    case Namespace::user: return "user";
    case Namespace::cgroup: return "cgroup";
  }
  return "?";
}

}  // namespace ckpt::config
