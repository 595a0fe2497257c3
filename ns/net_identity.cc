// The identity rules of net_identity.h: which of the new container's claims collides with what
// the host holds, and the one-line message that names the other holder.
#include "ns/net_identity.h"

#include <cstdint>

#include "common/error.h"
#include "config/parse_values.h"
#include "ns/network.h"

namespace ckpt::ns {
namespace {

constexpr std::string_view kOwnerAlias = "crun-ckpt container ";
constexpr std::string_view kBridgeAlias = "crun-ckpt bridge ";
constexpr size_t kAliasMax = 255;  // IFALIASZ - 1 (include/uapi/linux/if.h)

std::string indexed(size_t i) {
  return "network.interfaces[" + std::to_string(i) + "]";
}

// "container 'a'", "containers 'a' and 'b'", "no container" for a bridge nobody uses.
std::string describe_holders(const std::vector<Holder>& holders, const std::string& our_root) {
  if (holders.empty()) return "no container (left by a stopped one)";
  std::string out = describe_holder(holders[0], our_root);
  for (size_t i = 1; i < holders.size(); ++i)
    out += (i + 1 == holders.size() ? " and " : ", ") + describe_holder(holders[i], our_root);
  return out;
}

std::string bridge_text(const HostBridge& bridge) {
  return "bridge " + bridge.name + (bridge.subnet ? " (" + bridge.subnet->str() + ")" : "");
}

class Checker {
 public:
  Checker(const std::vector<config::Interface>& wanted, const NetworkOwner& self,
          const HostNetwork& host)
      : wanted_(wanted), self_(self), host_(host) {}

  std::optional<IdentityConflict> run() {
    for (size_t i = 0; i < wanted_.size() && !found_; ++i) {
      check_link_name(i);
      if (!found_) check_address(i);
      if (!found_) check_gateway(i);
      if (!found_) check_mac(i);
      if (!found_) check_subnet(i);
    }
    return found_;
  }

 private:
  void conflict(IdentityConflict::Kind kind, size_t i, const std::string& key_suffix,
                std::string message, std::string hint, std::optional<Holder> holder = {}) {
    found_ = IdentityConflict{
        kind, i, indexed(i) + key_suffix, std::move(message), std::move(hint), std::move(holder)};
  }
  std::string who(const Holder& h) const { return describe_holder(h, self_.root); }
  // The short name for a hint, once the message named the holder fully.
  static std::string named(const Holder& h) {
    return h.owner ? "'" + h.owner->id + "'" : "the container behind " + h.link;
  }
  std::string who(const std::vector<Holder>& hs) const { return describe_holders(hs, self_.root); }

  void check_link_name(size_t i) {
    std::string veth = host_veth_name(self_.id, i);
    for (const auto& link : host_.links) {
      if (link.name != veth) continue;
      std::string whose = link.holder ? who(*link.holder) : "a link of the host";
      conflict(IdentityConflict::Kind::link_name, i, "",
               "the host link name " + veth + " of this container is taken by " + whose,
               "host link names come from the container id, which must be unique on the host "
               "across every --root: use another name",
               link.holder);
      return;
    }
  }

  void check_address(size_t i) {
    const config::Ipv4Address& addr = wanted_[i].address.address;
    for (const auto& c : host_.containers) {
      for (const auto& a : c.addresses) {
        if (a.address != addr) continue;
        conflict(IdentityConflict::Kind::address, i, ".address",
                 addr.str() + " is already the address of " + who(c.holder),
                 "give this container another address, or delete " + named(c.holder) + " first",
                 c.holder);
        return;
      }
    }
    for (const auto& b : host_.bridges) {
      for (const auto& a : b.addresses) {
        if (a.address != addr) continue;
        conflict(IdentityConflict::Kind::address, i, ".address",
                 addr.str() + " is the gateway address of " + bridge_text(b) + ", used by " +
                     who(b.holders),
                 "a container cannot take its bridge's address: use another one");
        return;
      }
    }
    for (const auto& itf : host_.interfaces) {
      for (const auto& a : itf.addresses) {
        if (a.address != addr) continue;
        conflict(IdentityConflict::Kind::address, i, ".address",
                 addr.str() + " is an address of the host's interface " + itf.name,
                 "use an address the host does not have");
        return;
      }
    }
  }

  void check_gateway(size_t i) {
    if (!wanted_[i].gateway) return;
    const config::Ipv4Address& gw = *wanted_[i].gateway;
    for (const auto& c : host_.containers) {
      for (const auto& a : c.addresses) {
        if (a.address != gw) continue;
        conflict(IdentityConflict::Kind::gateway, i, ".gateway",
                 "gateway " + gw.str() + " is the address of " + who(c.holder),
                 "use the gateway the subnet's bridge has, or another free address", c.holder);
        return;
      }
    }
  }

  void check_mac(size_t i) {
    config::MacAddress mac = interface_mac(wanted_[i]);
    for (const auto& c : host_.containers) {
      for (const auto& m : c.macs) {
        if (m != mac) continue;
        conflict(IdentityConflict::Kind::mac, i, ".mac",
                 mac.str() + " is already the MAC of " + who(c.holder),
                 "set another mac in the spec, or delete " + named(c.holder) + " first", c.holder);
        return;
      }
    }
    for (const auto& b : host_.bridges) {
      bool own = b.mac && *b.mac == mac;
      bool port = false;
      for (const auto& m : b.port_macs) port = port || m == mac;
      if (!own && !port) continue;
      conflict(IdentityConflict::Kind::mac, i, ".mac",
               mac.str() + " is the MAC of " + (own ? "" : "a port of ") + bridge_text(b),
               "set another mac in the spec");
      return;
    }
    for (size_t j = 0; j < wanted_.size(); ++j) {
      if (bridge_mac(wanted_[j].address) != mac) continue;
      conflict(IdentityConflict::Kind::mac, i, ".mac",
               mac.str() + " is the MAC of the bridge of " + subnet_of(wanted_[j].address).str(),
               "MACs 06:PP:... are the bridges' own: set another mac in the spec");
      return;
    }
  }

  void check_subnet(size_t i) {
    config::Ipv4Cidr subnet = subnet_of(wanted_[i].address);
    std::string own_bridge = bridge_name(subnet);
    for (const auto& link : host_.links) {
      if (link.name != own_bridge) continue;
      const HostBridge* bridge = find_bridge(own_bridge);
      if (!bridge) {
        conflict(IdentityConflict::Kind::subnet, i, ".address",
                 "the bridge name " + own_bridge + " of " + subnet.str() +
                     " is taken by a link of the host that is not a crun-ckpt bridge",
                 "remove that link, or use another subnet");
        return;
      }
      if (bridge->subnet && *bridge->subnet != subnet) {
        conflict(IdentityConflict::Kind::subnet, i, ".address",
                 "the bridge name " + own_bridge + " of " + subnet.str() +
                     " is taken by the bridge of " + bridge->subnet->str(),
                 "use another subnet");
        return;
      }
    }
    for (const auto& b : host_.bridges) {
      if (!b.subnet || *b.subnet == subnet || !subnets_overlap(*b.subnet, subnet)) continue;
      conflict(IdentityConflict::Kind::subnet, i, ".address",
               "subnet " + subnet.str() + " overlaps " + b.subnet->str() + " of bridge " + b.name +
                   ", used by " + who(b.holders),
               "use exactly " + b.subnet->str() +
                   " (containers of one subnet share its bridge) or a subnet that does not "
                   "overlap it",
               b.holders.empty() ? std::nullopt : std::optional<Holder>(b.holders[0]));
      return;
    }
    for (const auto& itf : host_.interfaces) {
      for (const auto& a : itf.addresses) {
        if (!subnets_overlap(subnet_of(a), subnet)) continue;
        conflict(IdentityConflict::Kind::subnet, i, ".address",
                 "subnet " + subnet.str() + " overlaps " + subnet_of(a).str() +
                     " of the host's interface " + itf.name,
                 "use a subnet the host does not route elsewhere");
        return;
      }
    }
    for (size_t j = 0; j < i; ++j) {
      config::Ipv4Cidr other = subnet_of(wanted_[j].address);
      if (other == subnet || !subnets_overlap(other, subnet)) continue;
      conflict(IdentityConflict::Kind::subnet, i, ".address",
               "subnet " + subnet.str() + " overlaps " + other.str() + " of " + indexed(j),
               "put both interfaces on one subnet, or on subnets that do not overlap");
      return;
    }
  }

  const HostBridge* find_bridge(const std::string& name) const {
    for (const auto& b : host_.bridges)
      if (b.name == name) return &b;
    return nullptr;
  }

  const std::vector<config::Interface>& wanted_;
  const NetworkOwner& self_;
  const HostNetwork& host_;
  std::optional<IdentityConflict> found_;
};

}  // namespace

std::optional<IdentityConflict> find_identity_conflict(const std::vector<config::Interface>& wanted,
                                                       const NetworkOwner& self,
                                                       const HostNetwork& host) {
  return Checker(wanted, self, host).run();
}

bool subnets_overlap(const config::Ipv4Cidr& a, const config::Ipv4Cidr& b) {
  return config::cidr_contains(a, b.address) || config::cidr_contains(b, a.address);
}

config::MacAddress interface_mac(const config::Interface& itf) {
  return itf.mac ? *itf.mac : config::mac_from_ipv4(itf.address.address);
}

config::MacAddress bridge_mac(const config::Ipv4Cidr& subnet) {
  const auto& n = subnet_of(subnet).address.bytes;
  return config::MacAddress{{0x06, subnet.prefix, n[0], n[1], n[2], n[3]}};
}

std::string owner_alias(const NetworkOwner& owner) {
  // "crun-ckpt container ID ROOT": an id has no spaces (config::check_container_id), so the
  // root is the rest of the text, spaces and all.
  std::string alias = std::string(kOwnerAlias) + owner.id + " " + owner.root;
  if (alias.size() > kAliasMax) alias.resize(kAliasMax);
  return alias;
}

std::optional<NetworkOwner> parse_owner_alias(std::string_view alias) {
  if (alias.substr(0, kOwnerAlias.size()) != kOwnerAlias) return std::nullopt;
  alias.remove_prefix(kOwnerAlias.size());
  size_t space = alias.find(' ');
  if (space == 0 || space == std::string_view::npos) return std::nullopt;
  return NetworkOwner{std::string(alias.substr(0, space)), std::string(alias.substr(space + 1))};
}

std::string bridge_alias(const config::Ipv4Cidr& subnet) {
  return std::string(kBridgeAlias) + subnet_of(subnet).str();
}

std::optional<config::Ipv4Cidr> parse_bridge_alias(std::string_view alias) {
  if (alias.substr(0, kBridgeAlias.size()) != kBridgeAlias) return std::nullopt;
  alias.remove_prefix(kBridgeAlias.size());
  // Not config::parse_ipv4_cidr: that one wants a host address, and this is a network's.
  size_t slash = alias.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  try {
    config::Ipv4Cidr subnet;
    subnet.address = config::parse_ipv4(alias.substr(0, slash));
    subnet.prefix = static_cast<uint8_t>(config::parse_uint(alias.substr(slash + 1), 32));
    return subnet_of(subnet);
  } catch (const Error&) {
    return std::nullopt;
  }
}

std::string describe_holder(const Holder& holder, const std::string& our_root) {
  if (!holder.owner) return "the container behind host link " + holder.link;
  std::string out = "container '" + holder.owner->id + "'";
  if (holder.owner->root != our_root) out += " (--root " + holder.owner->root + ")";
  return out;
}

}  // namespace ckpt::ns
