#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>

#include "common/error.h"
#include "ns/netlink.h"

namespace ckpt::ns::nl {
namespace {

struct LinkDeleter {
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
using Link = std::unique_ptr<rtnl_link, LinkDeleter>;

struct CacheDeleter {
  void operator()(nl_cache* c) const { nl_cache_free(c); }
};

Link alloc_link() {
  Link link(rtnl_link_alloc());
  if (!link) throw Error("allocate a netlink link object", ENOMEM);
  return link;
}

bool is_missing(int rc) {
  return rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NODEV;
}

void set_mac(rtnl_link* link, const config::MacAddress& mac) {
  nl_addr* addr = nl_addr_build(AF_LLC, mac.bytes.data(), mac.bytes.size());
  if (!addr) throw Error("allocate a netlink address", ENOMEM);
  rtnl_link_set_addr(link, addr);  // takes its own reference
  nl_addr_put(addr);
}

}  // namespace

int link_index(nl_sock* sock, const std::string& name) {
  rtnl_link* raw = nullptr;
  int rc = rtnl_link_get_kernel(sock, 0, name.c_str(), &raw);
  if (is_missing(rc)) return 0;
  check(rc, "look up link " + name);
  Link link(raw);
  return rtnl_link_get_ifindex(link.get());
}

void link_up(nl_sock* sock, const std::string& name) {
  rtnl_link* raw = nullptr;
  check(rtnl_link_get_kernel(sock, 0, name.c_str(), &raw), "look up link " + name);
  Link current(raw);
  Link change = alloc_link();
  rtnl_link_set_flags(change.get(), IFF_UP);
  check(rtnl_link_change(sock, current.get(), change.get(), 0), "set link " + name + " up");
}

bool ensure_bridge(nl_sock* sock, const std::string& name, const config::MacAddress& mac) {
  if (link_index(sock, name) != 0) return false;
  Link bridge(rtnl_link_bridge_alloc());
  if (!bridge) throw Error("allocate a netlink bridge object", ENOMEM);
  rtnl_link_set_name(bridge.get(), name.c_str());
  // IFLA_ADDRESS at creation marks the address as set by the user (NET_ADDR_SET).
  set_mac(bridge.get(), mac);
  int rc = rtnl_link_add(sock, bridge.get(), NLM_F_CREATE | NLM_F_EXCL);
  if (rc == -NLE_EXIST) return false;
  check(rc, "create bridge " + name);
  return true;
}

void create_veth(nl_sock* sock, const std::string& host_name, int master,
                 const std::string& peer_name, const config::MacAddress& peer_mac, pid_t peer_pid) {
  Link host(rtnl_link_veth_alloc());
  if (!host) throw Error("allocate a netlink veth object", ENOMEM);
  rtnl_link_set_name(host.get(), host_name.c_str());
  rtnl_link_set_master(host.get(), master);
  rtnl_link_set_flags(host.get(), IFF_UP);

  rtnl_link* peer = rtnl_link_veth_get_peer(host.get());  // new reference
  Link peer_ref(peer);
  rtnl_link_set_name(peer, peer_name.c_str());
  rtnl_link_set_ns_pid(peer, peer_pid);
  set_mac(peer, peer_mac);

  check(rtnl_link_add(sock, host.get(), NLM_F_CREATE | NLM_F_EXCL),
        "create veth " + host_name + " <-> " + peer_name + " (in the netns of pid " +
            std::to_string(peer_pid) + ")");
}

void set_alias(nl_sock* sock, const std::string& name, const std::string& alias) {
  rtnl_link* raw = nullptr;
  check(rtnl_link_get_kernel(sock, 0, name.c_str(), &raw), "look up link " + name);
  Link current(raw);
  Link change = alloc_link();
  rtnl_link_set_ifalias(change.get(), alias.c_str());
  check(rtnl_link_change(sock, current.get(), change.get(), 0), "set the alias of link " + name);
}

std::optional<std::string> link_alias(nl_sock* sock, const std::string& name) {
  rtnl_link* raw = nullptr;
  int rc = rtnl_link_get_kernel(sock, 0, name.c_str(), &raw);
  if (is_missing(rc)) return std::nullopt;
  check(rc, "look up link " + name);
  Link link(raw);
  const char* alias = rtnl_link_get_ifalias(link.get());
  return std::string(alias ? alias : "");
}

std::string create_detached_link(nl_sock* sock, const std::string& name,
                                 const config::MacAddress& mac) {
  for (const char* kind : {"dummy", "ifb"}) {
    Link link = alloc_link();
    check(rtnl_link_set_type(link.get(), kind), std::string("make a ") + kind + " link object");
    rtnl_link_set_name(link.get(), name.c_str());
    set_mac(link.get(), mac);
    int rc = rtnl_link_add(sock, link.get(), NLM_F_CREATE | NLM_F_EXCL);
    // "Unknown device type": the kernel has no such driver.
    if (rc == -NLE_OPNOTSUPP) continue;
    check(rc, std::string("create ") + kind + " link " + name);
    rtnl_link* raw = nullptr;
    check(rtnl_link_get_kernel(sock, 0, name.c_str(), &raw), "look up link " + name);
    Link current(raw);
    Link change = alloc_link();
    // ifb comes with IFF_NOARP and without IFF_MULTICAST (ifb_setup); a veth has the opposite.
    rtnl_link_set_flags(change.get(), IFF_UP | IFF_MULTICAST);
    rtnl_link_unset_flags(change.get(), IFF_NOARP);
    check(rtnl_link_change(sock, current.get(), change.get(), 0), "set link " + name + " up");
    return kind;
  }
  throw Error("create link " + name + ": this kernel has neither the dummy nor the ifb driver",
              EOPNOTSUPP, "a detached network needs CONFIG_DUMMY or CONFIG_IFB");
}

bool delete_link(nl_sock* sock, const std::string& name) {
  Link link = alloc_link();
  rtnl_link_set_name(link.get(), name.c_str());
  int rc = rtnl_link_delete(sock, link.get());
  if (is_missing(rc)) return false;
  check(rc, "delete link " + name);
  return true;
}

int count_ports(nl_sock* sock, int ifindex) {
  nl_cache* raw = nullptr;
  check(rtnl_link_alloc_cache(sock, AF_UNSPEC, &raw), "list links");
  std::unique_ptr<nl_cache, CacheDeleter> cache(raw);
  int ports = 0;
  for (nl_object* obj = nl_cache_get_first(cache.get()); obj; obj = nl_cache_get_next(obj)) {
    if (rtnl_link_get_master(reinterpret_cast<rtnl_link*>(obj)) == ifindex) ++ports;
  }
  return ports;
}

}  // namespace ckpt::ns::nl
