// setup_detached_network: the container's interfaces with no host side. Each is a link without
// peer or lower device (nl::create_detached_link: dummy, or ifb), which takes any MAC and
// address and drops what it is given, so the container sees its names, MACs, addresses and
// default route, and nothing reaches the host or the container that holds the same identity
// there.
#include "common/error.h"
#include "ns/netlink.h"
#include "ns/network.h"

namespace ckpt::ns {

void setup_detached_network(const config::ContainerSpec& spec, pid_t child) {
  with_context("set up the detached network of the container", [&] {
    nl::Socket inside = nl::connect_route_in(child);
    nl::link_up(inside.get(), "lo");
    for (size_t i = 0; i < spec.network.interfaces.size(); ++i) {
      const auto& itf = spec.network.interfaces[i];
      with_context(
          "network interface " + itf.name + " (network.interfaces[" + std::to_string(i) + "])",
          [&] {
            // Up before the route: the kernel refuses a next hop on a down device.
            nl::create_detached_link(inside.get(), itf.name, interface_mac(itf));
            int index = nl::link_index(inside.get(), itf.name);
            nl::add_address(inside.get(), index, itf.address, /*may_exist=*/false);
            if (itf.gateway) nl::add_default_route(inside.get(), index, *itf.gateway);
          });
    }
  });
}

}  // namespace ckpt::ns
