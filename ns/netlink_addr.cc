#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>

#include "common/error.h"
#include "ns/netlink.h"

namespace ckpt::ns::nl {
namespace {

struct AddrDeleter {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};
using Addr = std::unique_ptr<nl_addr, AddrDeleter>;

Addr ipv4(const config::Ipv4Address& address, unsigned prefix) {
  Addr a(nl_addr_build(AF_INET, address.bytes.data(), address.bytes.size()));
  if (!a) throw Error("allocate a netlink address", ENOMEM);
  nl_addr_set_prefixlen(a.get(), static_cast<int>(prefix));
  return a;
}

}  // namespace

void add_address(nl_sock* sock, int ifindex, const config::Ipv4Cidr& cidr, bool may_exist) {
  std::unique_ptr<rtnl_addr, void (*)(rtnl_addr*)> addr(rtnl_addr_alloc(), rtnl_addr_put);
  if (!addr) throw Error("allocate a netlink address object", ENOMEM);
  rtnl_addr_set_ifindex(addr.get(), ifindex);
  rtnl_addr_set_family(addr.get(), AF_INET);
  Addr local = ipv4(cidr.address, cidr.prefix);
  check(rtnl_addr_set_local(addr.get(), local.get()), "set address " + cidr.str());
  int rc = rtnl_addr_add(sock, addr.get(), NLM_F_CREATE | NLM_F_EXCL);
  if (rc == -NLE_EXIST && may_exist) return;
  check(rc, "add address " + cidr.str());
}

void add_default_route(nl_sock* sock, int ifindex, const config::Ipv4Address& gateway) {
  std::unique_ptr<rtnl_route, void (*)(rtnl_route*)> route(rtnl_route_alloc(), rtnl_route_put);
  if (!route) throw Error("allocate a netlink route object", ENOMEM);
  rtnl_route_set_family(route.get(), AF_INET);
  rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
  rtnl_route_set_protocol(route.get(), RTPROT_BOOT);
  rtnl_route_set_scope(route.get(), RT_SCOPE_UNIVERSE);
  rtnl_route_set_type(route.get(), RTN_UNICAST);
  Addr dst = ipv4(config::Ipv4Address{}, 0);
  check(rtnl_route_set_dst(route.get(), dst.get()), "set route destination");

  // The route owns the next hop once added to it.
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  if (!nh) throw Error("allocate a netlink next hop", ENOMEM);
  rtnl_route_nh_set_ifindex(nh, ifindex);
  Addr gw = ipv4(gateway, 32);
  rtnl_route_nh_set_gateway(nh, gw.get());
  rtnl_route_add_nexthop(route.get(), nh);

  check(rtnl_route_add(sock, route.get(), NLM_F_CREATE | NLM_F_EXCL),
        "add default route via " + gateway.str());
}

}  // namespace ckpt::ns::nl
