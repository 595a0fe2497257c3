// Network identities that cannot collide: the pure rules, apart from the kernel.
//
// What a container's interfaces claim on the host (an IPv4 address, a MAC, a subnet with its
// bridge, a host-side link name) is checked against what the host's kernel holds right now,
// read into a HostNetwork by net_scan.cc. The kernel, not the state directories, is the truth:
// a container started under another --root, or by a crun-ckpt that was killed half-way, holds
// its addresses all the same, and a stopped one holds nothing any more (its network namespace,
// and with it its veth pair, went with its last process). Each host-side veth carries in its
// ifalias the container that owns it (owner_alias), so whoever finds the collision can name it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/spec.h"

namespace ckpt::ns {

// The container a host link belongs to: its id and the --root its state lives in (two roots
// may hold containers of one id).
struct NetworkOwner {
  std::string id;
  std::string root;
  bool operator==(const NetworkOwner&) const = default;
};

// Who holds an identity on the host: a container found by the alias of its host link, or only
// that link when it has no alias (made by an older crun-ckpt).
struct Holder {
  std::optional<NetworkOwner> owner;
  std::string link;  // the host-side link that led to it
  bool operator==(const Holder&) const = default;
};

// A crun-ckpt bridge: its subnet (from its alias, or from its addresses for a bridge made by
// an older crun-ckpt), its addresses (the gateways), its MAC and its ports' MACs, and the
// containers attached to it.
struct HostBridge {
  std::string name;
  std::optional<config::Ipv4Cidr> subnet;
  std::vector<config::Ipv4Cidr> addresses;
  std::optional<config::MacAddress> mac;
  std::vector<config::MacAddress> port_macs;
  std::vector<Holder> holders;
};

// One container on a crun-ckpt bridge, seen through its network namespace: every IPv4 address
// and MAC in it (loopback aside), including any the workload added itself.
struct HostContainer {
  Holder holder;
  std::vector<config::Ipv4Cidr> addresses;
  std::vector<config::MacAddress> macs;
};

// Any other link of the host (eth0, lo, another runtime's bridge) with its IPv4 addresses.
struct HostInterface {
  std::string name;
  std::vector<config::Ipv4Cidr> addresses;
};

struct HostLink {
  std::string name;
  std::optional<Holder> holder;  // for crun-ckpt veths
  bool is_bridge = false;
};

struct HostNetwork {
  std::vector<HostBridge> bridges;
  std::vector<HostContainer> containers;
  std::vector<HostInterface> interfaces;
  std::vector<HostLink> links;  // every link name of the host
};

// A collision of interface `index` of the new container. `key` is the spec key it comes from
// ("network.interfaces[0].address"), `message` says what collides with what (naming the other
// container), `hint` what to do; `holder` is the other container when there is one.
struct IdentityConflict {
  enum class Kind { link_name, address, gateway, mac, subnet };
  Kind kind = Kind::address;
  size_t index = 0;
  std::string key;
  std::string message;
  std::string hint;
  std::optional<Holder> holder;
};

// The first collision between `wanted` (the interfaces of the new container `self`) and the
// host, or nothing. The rules: an address held by another
// container, or by the host itself (a bridge's gateway, any host interface); a gateway that is
// another container's address; a MAC of another container, of a crun-ckpt bridge or one of
// its ports; a subnet that overlaps a different subnet of a crun-ckpt bridge, of a host
// interface, or of another interface of the same container; a host link name already taken.
std::optional<IdentityConflict> find_identity_conflict(const std::vector<config::Interface>& wanted,
                                                       const NetworkOwner& self,
                                                       const HostNetwork& host);

// Two subnets overlap when one contains the other's network address (IPv4 subnets nest).
bool subnets_overlap(const config::Ipv4Cidr& a, const config::Ipv4Cidr& b);
// The MAC of the interface: the spec's, or the default derived from its address.
config::MacAddress interface_mac(const config::Interface& itf);
// The fixed MAC of the bridge of `subnet` (any address of it): 06:PP:AA:BB:CC:DD with PP the
// prefix length and AA.BB.CC.DD the network address. Locally administered (bit 1 of the first
// byte) and unicast (bit 0 clear); distinct from the container default 02:00:... and, since
// subnets that do not overlap have distinct network addresses, distinct per bridge.
config::MacAddress bridge_mac(const config::Ipv4Cidr& subnet);

// The ifalias texts (IFALIASZ is 256: a longer root is cut, and only names the holder).
std::string owner_alias(const NetworkOwner& owner);
std::optional<NetworkOwner> parse_owner_alias(std::string_view alias);
std::string bridge_alias(const config::Ipv4Cidr& subnet);
std::optional<config::Ipv4Cidr> parse_bridge_alias(std::string_view alias);

// "container 'web1'", with " (--root DIR)" when its root is not `our_root`.
std::string describe_holder(const Holder& holder, const std::string& our_root);

}  // namespace ckpt::ns
