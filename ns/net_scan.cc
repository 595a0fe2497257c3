#include "ns/net_scan.h"

#include <net/if.h>

#include <map>

#include "common/error.h"
#include "ns/netlink.h"
#include "ns/network.h"

namespace ckpt::ns {
namespace {

bool is_ckpt_bridge(const nl::LinkFacts& link) {
  // Bridges of an older crun-ckpt have no alias; their name still says whose they are.
  return link.kind == "bridge" &&
         (parse_bridge_alias(link.alias) || link.name.rfind("ckptbr", 0) == 0);
}

// Every address and MAC of the namespace `netnsid`, loopback aside.
void read_container(nl_sock* sock, int32_t netnsid, HostContainer& out) {
  std::vector<nl::LinkFacts> links;
  std::vector<nl::AddressFacts> addresses;
  try {
    links = nl::dump_links(sock, netnsid);
    addresses = nl::dump_addresses(sock, netnsid);
  } catch (const Error& e) {
    // Its last process exited between the host dump and now: the namespace, with every
    // identity it held, is gone (the kernel answers EINVAL for an id that names nothing).
    if (e.code() == EINVAL || e.code() == ENODEV) return;
    throw;
  }
  std::map<int, bool> loopback;
  for (const auto& l : links) {
    loopback[l.index] = (l.flags & IFF_LOOPBACK) != 0;
    if (!loopback[l.index] && l.mac) out.macs.push_back(*l.mac);
  }
  for (const auto& a : addresses)
    if (!loopback[a.index]) out.addresses.push_back(a.cidr);
}

class Scan {
 public:
  explicit Scan(nl_sock* sock) : sock_(sock) {}

  HostNetwork run() {
    std::vector<nl::LinkFacts> links = nl::dump_links(sock_);
    for (const auto& l : links) {
      by_index_[l.index] = &l;
      if (is_ckpt_bridge(l)) {
        HostBridge& b = bridges_[l.index];
        b.name = l.name;
        b.mac = l.mac;
        b.subnet = parse_bridge_alias(l.alias);
      }
    }
    for (const auto& l : links) add_link(l);
    for (const auto& a : nl::dump_addresses(sock_)) add_address(a);
    for (auto& [netnsid, container] : containers_) {
      read_container(sock_, netnsid, container);
      host_.containers.push_back(std::move(container));
    }
    for (auto& [index, bridge] : bridges_) host_.bridges.push_back(std::move(bridge));
    for (auto& [index, itf] : interfaces_) host_.interfaces.push_back(std::move(itf));
    return std::move(host_);
  }

 private:
  HostBridge* bridge_of_port(const nl::LinkFacts& l) {
    auto it = bridges_.find(l.master);
    return it == bridges_.end() ? nullptr : &it->second;
  }

  void add_link(const nl::LinkFacts& l) {
    HostLink link{l.name, std::nullopt, bridges_.count(l.index) != 0};
    if (HostBridge* bridge = bridge_of_port(l)) {
      Holder holder{parse_owner_alias(l.alias), l.name};
      link.holder = holder;
      if (l.mac) bridge->port_macs.push_back(*l.mac);
      bool listed = false;
      for (const auto& h : bridge->holders) listed = listed || (h.owner && h.owner == holder.owner);
      if (!listed) bridge->holders.push_back(holder);
      // A container with several veths (on one bridge or several) is one namespace.
      if (l.peer_netnsid && !containers_.count(*l.peer_netnsid))
        containers_[*l.peer_netnsid].holder = holder;
    }
    host_.links.push_back(std::move(link));
  }

  void add_address(const nl::AddressFacts& a) {
    if (auto b = bridges_.find(a.index); b != bridges_.end()) {
      b->second.addresses.push_back(a.cidr);
      if (!b->second.subnet) b->second.subnet = subnet_of(a.cidr);
      return;
    }
    auto link = by_index_.find(a.index);
    if (link == by_index_.end() || bridge_of_port(*link->second)) return;
    HostInterface& itf = interfaces_[a.index];
    itf.name = link->second->name;
    itf.addresses.push_back(a.cidr);
  }

  nl_sock* sock_;
  HostNetwork host_;
  std::map<int, const nl::LinkFacts*> by_index_;
  std::map<int, HostBridge> bridges_;            // crun-ckpt bridges by ifindex
  std::map<int, HostInterface> interfaces_;      // other links with addresses, by ifindex
  std::map<int32_t, HostContainer> containers_;  // by the netnsid of their namespace
};

}  // namespace

HostNetwork scan_host_network() {
  return with_context("read the host's network", [] {
    nl::Socket sock = nl::connect_route_strict();
    return Scan(sock.get()).run();
  });
}

}  // namespace ckpt::ns
