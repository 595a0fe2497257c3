// Container networking over netlink (libnl-route-3).
//
// Loopback is brought up inside. Each spec interface is one end of a veth pair: the container
// end gets the spec's name, MAC and address and a default route via the gateway; the host end
// is attached to a bridge per subnet ("ckptbr" + hash), which holds the gateway address, so the
// host reaches every container and containers on one subnet reach each other. Host-side names
// are derived from the container id ("ckpt" + hash + index) so cleanup needs only the id; the
// host end's ifalias names its container and --root, so no other container's link is taken
// for ours and a collision names its holder.
//
// Identities are unique on the host (net_identity.h): an address, a MAC, a subnet overlapping
// another bridge's are refused before anything is created, checked against the kernel under a
// host-wide lock (net_lock.h) that is held until the new links and addresses exist.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "config/spec.h"
#include "ns/net_identity.h"

namespace ckpt::ns {

// Who asks: only the hint of a refusal differs (a restore beside its running original can be
// made with --network-detached).
enum class StartKind { run, restore };

// Refuses, in one line naming the other container, interfaces of `spec` whose identity the
// host already holds (net_identity.h lists the rules). Reads the kernel; setup_network checks
// again under the lock, so this early check only spares creating anything before a refusal.
void check_network_identities(const config::ContainerSpec& spec, const NetworkOwner& owner,
                              StartKind kind);

// Checks the identities and creates the veth pairs and bridges, and configures the container
// side inside the network namespace of `child` (which must already exist), all under the host
// network lock. On error everything it created is removed.
void setup_network(const config::ContainerSpec& spec, const NetworkOwner& owner, pid_t child,
                   StartKind kind = StartKind::run);

// The same interfaces inside the namespace of `child` (names, MACs, addresses, default route)
// with no host side at all: each is a link without peer (a dummy, or an ifb), so nothing it
// sends leaves the namespace and it can hold the identity of a container running on the host.
// Checks nothing on the host.
void setup_detached_network(const config::ContainerSpec& spec, pid_t child);

// Removes the host ends of the container's veths (the container ends die with its netns), if
// they are its own (their alias names `owner`, or they have none), and any bridge of its
// subnets that no longer has ports. Missing links are fine: safe to call twice.
void teardown_network(const config::ContainerSpec& spec, const NetworkOwner& owner);

// The host-side veth name of interface `index` of a container.
std::string host_veth_name(const std::string& container_id, size_t index);
// The bridge of the subnet that `subnet` (an interface address) belongs to: every address of
// one subnet gives the same name.
std::string bridge_name(const config::Ipv4Cidr& subnet);
// The network address of `cidr` (host bits cleared): 10.1.2.5/24 -> 10.1.2.0/24.
config::Ipv4Cidr subnet_of(const config::Ipv4Cidr& cidr);

}  // namespace ckpt::ns
