// setup_network / teardown_network: the container's interfaces as veth pairs on a bridge per
// subnet. The order inside matters: a route via a gateway needs its link up (the kernel refuses
// a next hop on a down device), so each container link is brought up before addresses and
// routes are added. All of it happens under the host network lock, the container's addresses
// included: another container's identity check reads them from the container's namespace.
#include "ns/network.h"

#include <optional>
#include <set>

#include "common/error.h"
#include "ns/net_lock.h"
#include "ns/netlink.h"

namespace ckpt::ns {
namespace {

std::string describe(const config::Interface& itf, size_t index) {
  return "network interface " + itf.name + " (network.interfaces[" + std::to_string(index) + "])";
}

// Deletes the bridges without ports among `bridges`; a bridge still used by another container
// of the same subnet stays.
void remove_unused_bridges(nl_sock* sock, const std::set<std::string>& bridges) {
  for (const auto& name : bridges) {
    int index = nl::link_index(sock, name);
    if (index != 0 && nl::count_ports(sock, index) == 0) nl::delete_link(sock, name);
  }
}

// Undoes a half-done setup_network: the host veths it created (their container ends go with
// them) and the bridges it created, unless another container attached to them meanwhile.
class Rollback {
 public:
  explicit Rollback(nl_sock* sock) : sock_(sock) {}
  Rollback(const Rollback&) = delete;
  Rollback& operator=(const Rollback&) = delete;
  ~Rollback() {
    if (committed_) return;
    try {
      for (const auto& veth : veths_) nl::delete_link(sock_, veth);
      remove_unused_bridges(sock_, bridges_);
    } catch (const Error&) {
      // The original error is what the user needs; teardown_network retries the rest.
    }
  }
  void created_veth(const std::string& name) { veths_.push_back(name); }
  void created_bridge(const std::string& name) { bridges_.insert(name); }
  void commit() { committed_ = true; }

 private:
  nl_sock* sock_;
  std::vector<std::string> veths_;
  std::set<std::string> bridges_;
  bool committed_ = false;
};

void attach_interface(nl_sock* host, nl_sock* inside, const config::Interface& itf,
                      const std::string& veth, const NetworkOwner& owner, pid_t child,
                      Rollback& rollback) {
  std::string bridge = bridge_name(itf.address);
  if (nl::ensure_bridge(host, bridge, bridge_mac(itf.address))) {
    rollback.created_bridge(bridge);
    nl::set_alias(host, bridge, bridge_alias(itf.address));
  }
  int bridge_index = nl::link_index(host, bridge);
  if (bridge_index == 0) throw Error("bridge " + bridge + " vanished while being set up", ENODEV);
  if (itf.gateway) {
    // Parallel containers on one subnet add the same gateway address: EEXIST is fine.
    nl::add_address(host, bridge_index, config::Ipv4Cidr{*itf.gateway, itf.address.prefix},
                    /*may_exist=*/true);
  }
  nl::link_up(host, bridge);

  nl::create_veth(host, veth, bridge_index, itf.name, interface_mac(itf), child);
  rollback.created_veth(veth);
  nl::set_alias(host, veth, owner_alias(owner));

  int index = nl::link_index(inside, itf.name);
  if (index == 0)
    throw Error(itf.name + " did not appear in the container's network namespace", ENODEV);
  nl::link_up(inside, itf.name);
  nl::add_address(inside, index, itf.address, /*may_exist=*/false);
  if (itf.gateway) nl::add_default_route(inside, index, *itf.gateway);
}

}  // namespace

void setup_network(const config::ContainerSpec& spec, const NetworkOwner& owner, pid_t child,
                   StartKind kind) {
  // Held from the check until every link and address exists; released after a rollback.
  std::optional<HostNetworkLock> lock;
  if (!spec.network.interfaces.empty()) {
    lock.emplace();
    check_network_identities(spec, owner, kind);
  }
  with_context("set up the network of container " + owner.id, [&] {
    nl::Socket inside = nl::connect_route_in(child);
    nl::link_up(inside.get(), "lo");
    if (spec.network.interfaces.empty()) return;

    nl::Socket host = nl::connect_route();
    Rollback rollback(host.get());
    for (size_t i = 0; i < spec.network.interfaces.size(); ++i) {
      const auto& itf = spec.network.interfaces[i];
      with_context(describe(itf, i), [&] {
        attach_interface(host.get(), inside.get(), itf, host_veth_name(owner.id, i), owner, child,
                         rollback);
      });
    }
    rollback.commit();
  });
}

void teardown_network(const config::ContainerSpec& spec, const NetworkOwner& owner) {
  if (spec.network.interfaces.empty()) return;
  with_context("tear down the network of container " + owner.id, [&] {
    HostNetworkLock lock;
    nl::Socket host = nl::connect_route();
    std::set<std::string> bridges;
    for (size_t i = 0; i < spec.network.interfaces.size(); ++i) {
      std::string veth = host_veth_name(owner.id, i);
      // A container of the same id under another --root has the same link name: not ours.
      std::optional<std::string> alias = nl::link_alias(host.get(), veth);
      if (alias && (alias->empty() || *alias == owner_alias(owner)))
        nl::delete_link(host.get(), veth);
      bridges.insert(bridge_name(spec.network.interfaces[i].address));
    }
    remove_unused_bridges(host.get(), bridges);
  });
}

}  // namespace ckpt::ns
