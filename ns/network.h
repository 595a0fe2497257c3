// Container networking over netlink (libnl-route-3).
//
// Loopback is brought up inside. Each spec interface is one end of a veth pair: the container
// end gets the spec's name, MAC and address and a default route via the gateway; the host end
// is attached to a bridge per subnet ("ckptbr" + hash), which holds the gateway address, so the
// host reaches every container and containers on one subnet reach each other. Host-side names
// are derived from the container id ("ckpt" + hash + index) so cleanup needs only the id.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "config/spec.h"

namespace ckpt::ns {

// Creates the veth pairs and bridges and configures the container side inside the network
// namespace of `child` (which must already exist). On error everything it created is removed.
void setup_network(const config::ContainerSpec& spec, const std::string& container_id,
                   pid_t child);

// Removes the host ends of the container's veths (the container ends die with its netns) and
// any bridge that no longer has ports. Missing links are fine: safe to call twice.
void teardown_network(const config::ContainerSpec& spec, const std::string& container_id);

// The host-side veth name of interface `index` of a container.
std::string host_veth_name(const std::string& container_id, size_t index);
// The bridge of the subnet that `subnet` (an interface address) belongs to: every address of
// one subnet gives the same name.
std::string bridge_name(const config::Ipv4Cidr& subnet);
// The network address of `cidr` (host bits cleared): 10.1.2.5/24 -> 10.1.2.0/24.
config::Ipv4Cidr subnet_of(const config::Ipv4Cidr& cidr);

}  // namespace ckpt::ns
