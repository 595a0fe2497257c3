// Thin RAII layer over libnl-route-3 for the few rtnetlink requests networking needs: links
// (veth, bridge), addresses and routes, and a socket opened inside another network namespace.
// Internal to ns/: network.cc composes these into the container's network.
#pragma once

#include <netlink/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/spec.h"

namespace ckpt::ns::nl {

struct SockDeleter {
  void operator()(nl_sock* s) const { nl_socket_free(s); }
};
using Socket = std::unique_ptr<nl_sock, SockDeleter>;

// A NETLINK_ROUTE socket in the caller's network namespace.
Socket connect_route();
// A NETLINK_ROUTE socket in the network namespace of `pid`. A socket stays in the namespace it
// was created in, so the calling thread enters the namespace only for socket(2) and returns.
// The caller must be single-threaded (setns acts on the calling thread only).
Socket connect_route_in(pid_t pid);

// Throws ckpt::Error "`what`: <libnl message>" when rc < 0 (libnl returns -NLE_*).
void check(int rc, const std::string& what);

// ifindex of `name`, or 0 when there is no such link.
int link_index(nl_sock* sock, const std::string& name);
void link_up(nl_sock* sock, const std::string& name);
// Creates the bridge if missing, with `mac` as its address. A bridge whose address was set by
// the creator (addr_assign_type NET_ADDR_SET) keeps it; otherwise the kernel gives it the lowest
// MAC of its ports, and it changes as ports come and go (br_stp_recalculate_bridge_id,
// net/bridge/br_stp_if.c). Returns true if this call created it.
bool ensure_bridge(nl_sock* sock, const std::string& name, const config::MacAddress& mac);
// Sets the ifalias of an existing link (the kernel ignores IFLA_IFALIAS when creating a link,
// rtnl_newlink_create in net/core/rtnetlink.c, so it is a second request).
void set_alias(nl_sock* sock, const std::string& name, const std::string& alias);
// The ifalias of a link; nullopt when there is no such link.
std::optional<std::string> link_alias(nl_sock* sock, const std::string& name);
// Creates a link with no peer and no lower device, so what is sent on it goes nowhere, with
// `mac`, up, ARP and multicast on as on a veth: a "dummy" (drivers/net/dummy.c) or, on a kernel
// built without it, an "ifb" (drivers/net/ifb.c drops what it did not get from a tc redirect).
// Returns the kind used.
std::string create_detached_link(nl_sock* sock, const std::string& name,
                                 const config::MacAddress& mac);
// Creates a veth pair: `host_name` stays here, enslaved to `master` (ifindex) and up; the peer
// is created directly in the network namespace of `peer_pid` as `peer_name` with `peer_mac`, so
// the container's name never collides with a host link.
void create_veth(nl_sock* sock, const std::string& host_name, int master,
                 const std::string& peer_name, const config::MacAddress& peer_mac, pid_t peer_pid);
// Deletes a link; returns false if it did not exist.
bool delete_link(nl_sock* sock, const std::string& name);
// Number of links whose master is `ifindex`.
int count_ports(nl_sock* sock, int ifindex);

// Adds `cidr` to the link; an address that is already there is fine when `may_exist`.
void add_address(nl_sock* sock, int ifindex, const config::Ipv4Cidr& cidr, bool may_exist);
void add_default_route(nl_sock* sock, int ifindex, const config::Ipv4Address& gateway);

// What a link dump says about one link.
struct LinkFacts {
  int index = 0;
  std::string name;
  std::string kind;  // IFLA_INFO_KIND: "bridge", "veth", ... ("" when none)
  int master = 0;
  unsigned flags = 0;  // IFF_*
  std::optional<config::MacAddress> mac;
  std::string alias;
  std::optional<int32_t> peer_netnsid;  // IFLA_LINK_NETNSID: the peer's namespace (veth)
};
struct AddressFacts {
  int index = 0;
  config::Ipv4Cidr cidr;
};
// Every link, and every IPv4 address, of the socket's network namespace or, given a netnsid
// (as IFLA_LINK_NETNSID reported it), of that namespace (IFLA_TARGET_NETNSID and
// IFA_TARGET_NETNSID, Linux 4.20). The socket must come from connect_route_strict().
std::vector<LinkFacts> dump_links(nl_sock* sock, std::optional<int32_t> netnsid = std::nullopt);
std::vector<AddressFacts> dump_addresses(nl_sock* sock,
                                         std::optional<int32_t> netnsid = std::nullopt);
// A NETLINK_ROUTE socket with NETLINK_GET_STRICT_CHK: without it the kernel ignores
// IFA_TARGET_NETNSID in an address dump and answers with the caller's own addresses
// (inet_dump_ifaddr, net/ipv4/devinet.c, reads it only under cb->strict_check).
Socket connect_route_strict();

}  // namespace ckpt::ns::nl
