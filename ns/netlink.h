// Thin RAII layer over libnl-route-3 for the few rtnetlink requests networking needs: links
// (veth, bridge), addresses and routes, and a socket opened inside another network namespace.
// Internal to ns/: network.cc composes these into the container's network.
#pragma once

#include <netlink/socket.h>
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

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
// Creates the bridge if missing (another container may create it at the same time: EEXIST is
// fine). Returns true if this call created it.
bool ensure_bridge(nl_sock* sock, const std::string& name);
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

}  // namespace ckpt::ns::nl
