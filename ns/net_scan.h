// Reading what the host's kernel holds into a HostNetwork (net_identity.h): the crun-ckpt
// bridges with their subnets, gateways and MACs, every container attached to them seen through
// its own network namespace, and the host's other interfaces.
#pragma once

#include "ns/net_identity.h"

namespace ckpt::ns {

// Dumps the host's links and addresses, then the links and addresses of each network namespace
// at the far end of a crun-ckpt bridge's veth ports (by netnsid, without entering it). A
// namespace that vanishes while being read (its container just died) holds nothing.
HostNetwork scan_host_network();

}  // namespace ckpt::ns
