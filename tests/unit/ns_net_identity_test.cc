// The network identity rules (ns/net_identity.h) against hand-made views of a host: which claim
// of a new container collides with what, the key and the holder named, and the pure helpers
// (subnet overlap, the bridge's MAC, the alias texts).
#include <gtest/gtest.h>

#include "config/parse_values.h"
#include "ns/net_identity.h"
#include "ns/network.h"

namespace ckpt::ns {
namespace {

using config::parse_ipv4;
using config::parse_mac;

// "10.88.0.0/24" or "10.88.0.2/24" (config::parse_ipv4_cidr takes only host addresses).
config::Ipv4Cidr parse_ipv4_cidr(const std::string& text) {
  size_t slash = text.find('/');
  return config::Ipv4Cidr{parse_ipv4(text.substr(0, slash)),
                          static_cast<uint8_t>(std::stoi(text.substr(slash + 1)))};
}
using Kind = IdentityConflict::Kind;

const NetworkOwner kSelf{"new", "/run/crun-ckpt"};

config::Interface itf(const std::string& address, const std::string& gateway = "",
                      const std::string& mac = "") {
  config::Interface i;
  i.name = "eth0";
  i.address = parse_ipv4_cidr(address);
  if (!gateway.empty()) i.gateway = parse_ipv4(gateway);
  if (!mac.empty()) i.mac = parse_mac(mac);
  return i;
}

Holder holder(const std::string& id, const std::string& root = "/run/crun-ckpt") {
  return Holder{NetworkOwner{id, root}, "ckpt0000000" + id};
}

// A host with container 'a' (10.88.0.2/24, 02:00:0a:58:00:02) on the bridge of 10.88.0.0/24
// (gateway 10.88.0.1), and eth0 at 192.0.2.2/24.
HostNetwork host_with_a(const std::string& root_of_a = "/run/crun-ckpt") {
  HostNetwork host;
  Holder a = holder("a", root_of_a);
  config::Ipv4Cidr subnet = parse_ipv4_cidr("10.88.0.0/24");
  host.bridges.push_back(HostBridge{bridge_name(subnet),
                                    subnet,
                                    {parse_ipv4_cidr("10.88.0.1/24")},
                                    bridge_mac(subnet),
                                    {parse_mac("fe:00:00:00:00:01")},
                                    {a}});
  host.containers.push_back(
      HostContainer{a, {parse_ipv4_cidr("10.88.0.2/24")}, {parse_mac("02:00:0a:58:00:02")}});
  host.interfaces.push_back(HostInterface{"eth0", {parse_ipv4_cidr("192.0.2.2/24")}});
  host.links = {HostLink{"lo"}, HostLink{"eth0"}, HostLink{bridge_name(subnet), {}, true},
                HostLink{a.link, a}};
  return host;
}

std::optional<IdentityConflict> check(const std::vector<config::Interface>& wanted,
                                      const HostNetwork& host = host_with_a()) {
  return find_identity_conflict(wanted, kSelf, host);
}

TEST(NetIdentity, AFreeAddressOnAnExistingSubnetIsAccepted) {
  EXPECT_FALSE(check({itf("10.88.0.3/24", "10.88.0.1")}));
  EXPECT_FALSE(check({itf("10.89.0.2/24", "10.89.0.1")})) << "a new subnet beside";
  EXPECT_FALSE(check({itf("10.88.0.3/24")}, HostNetwork{})) << "an empty host";
}

TEST(NetIdentity, AnAddressOfAnotherContainerIsRefusedNamingIt) {
  auto c = check({itf("10.88.0.3/24"), itf("10.88.0.2/24", "", "02:00:00:00:00:99")});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, Kind::address);
  EXPECT_EQ(c->index, 1u);
  EXPECT_EQ(c->key, "network.interfaces[1].address");
  EXPECT_EQ(c->message, "10.88.0.2 is already the address of container 'a'");
  EXPECT_EQ(c->hint, "give this container another address, or delete 'a' first");
  ASSERT_TRUE(c->holder);
  EXPECT_EQ(c->holder->owner->id, "a");
}

TEST(NetIdentity, AHolderUnderAnotherRootIsNamedWithItsRoot) {
  auto c = check({itf("10.88.0.2/24")}, host_with_a("/var/lib/other"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->message,
            "10.88.0.2 is already the address of container 'a' (--root /var/lib/other)");
}

TEST(NetIdentity, AHolderWithoutAliasIsNamedByItsHostLink) {
  HostNetwork host = host_with_a();
  host.containers[0].holder = Holder{std::nullopt, "ckptdeadbeef0"};
  auto c = check({itf("10.88.0.2/24")}, host);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->message,
            "10.88.0.2 is already the address of the container behind host link "
            "ckptdeadbeef0");
}

TEST(NetIdentity, AnAddressTheContainerAddedItselfCounts) {
  HostNetwork host = host_with_a();
  host.containers[0].addresses.push_back(parse_ipv4_cidr("10.88.0.50/24"));
  auto c = check({itf("10.88.0.50/24")}, host);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, Kind::address);
}

TEST(NetIdentity, TheBridgesGatewayAddressIsRefused) {
  auto c = check({itf("10.88.0.1/24", "10.88.0.254")});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, Kind::address);
  EXPECT_EQ(c->message, "10.88.0.1 is the gateway address of bridge " +
                            bridge_name(parse_ipv4_cidr("10.88.0.0/24")) +
                            " (10.88.0.0/24), used by container 'a'");
}

TEST(NetIdentity, AnAddressOfTheHostIsRefused) {
  auto c = check({itf("192.0.2.2/24")});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, Kind::address);
  EXPECT_EQ(c->message, "192.0.2.2 is an address of the host's interface eth0");
}

TEST(NetIdentity, AGatewayThatIsAnotherContainersAddressIsRefused) {
  auto c = check({itf("10.88.0.3/24", "10.88.0.2")});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, Kind::gateway);
  EXPECT_EQ(c->key, "network.interfaces[0].gateway");
  EXPECT_EQ(c->message, "gateway 10.88.0.2 is the address of container 'a'");
}

TEST(NetIdentity, AMacOfAnotherContainerIsRefused) {
  auto c = check({itf("10.88.0.3/24", "10.88.0.1", "02:00:0a:58:00:02")});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, Kind::mac);
  EXPECT_EQ(c->key, "network.interfaces[0].mac");
  EXPECT_EQ(c->message, "02:00:0a:58:00:02 is already the MAC of container 'a'");
}

TEST(NetIdentity, TheDefaultMacIsCheckedToo) {
  // No mac in the spec: 02:00 + the address. a holds the MAC 10.88.0.9 would derive.
  HostNetwork host = host_with_a();
  host.containers[0].macs = {parse_mac("02:00:0a:58:00:09")};
  auto c = check({itf("10.88.0.9/24")}, host);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, Kind::mac);
}

TEST(NetIdentity, TheMacOfABridgeOrOfItsPortsIsRefused) {
  auto own = check({itf("10.88.0.3/24", "", "06:18:0a:58:00:00")});
  ASSERT_TRUE(own);
  EXPECT_EQ(own->kind, Kind::mac);
  EXPECT_NE(own->message.find("is the MAC of bridge"), std::string::npos) << own->message;
  auto port = check({itf("10.88.0.3/24", "", "fe:00:00:00:00:01")});
  ASSERT_TRUE(port);
  EXPECT_NE(port->message.find("is the MAC of a port of bridge"), std::string::npos)
      << port->message;
}

TEST(NetIdentity, TheMacTheNewBridgeWillHaveIsRefused) {
  auto c = check({itf("10.90.0.3/24", "", "06:18:0a:5a:00:00")}, HostNetwork{});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, Kind::mac);
  EXPECT_EQ(c->message, "06:18:0a:5a:00:00 is the MAC of the bridge of 10.90.0.0/24");
}

TEST(NetIdentity, ASubnetOverlappingABridgesSubnetIsRefusedBothWays) {
  auto wider = check({itf("10.88.7.2/16", "10.88.7.1")});
  ASSERT_TRUE(wider);
  EXPECT_EQ(wider->kind, Kind::subnet);
  EXPECT_EQ(wider->key, "network.interfaces[0].address");
  EXPECT_EQ(wider->message, "subnet 10.88.0.0/16 overlaps 10.88.0.0/24 of bridge " +
                                bridge_name(parse_ipv4_cidr("10.88.0.0/24")) +
                                ", used by container 'a'");
  auto narrower = check({itf("10.88.0.130/25")});
  ASSERT_TRUE(narrower);
  EXPECT_EQ(narrower->kind, Kind::subnet);
  EXPECT_FALSE(check({itf("10.88.1.2/24")})) << "the next /24 does not overlap";
}

TEST(NetIdentity, ABridgeSubnetKnownOnlyFromItsAddressCounts) {
  HostNetwork host = host_with_a();
  host.bridges[0].subnet.reset();  // an older crun-ckpt's bridge: no alias
  auto c = check({itf("10.88.0.130/25")}, host);
  EXPECT_FALSE(c) << "the scan fills the subnet from the addresses; with neither it is unknown";
  host.bridges[0].subnet = parse_ipv4_cidr("10.88.0.0/24");
  EXPECT_TRUE(check({itf("10.88.0.130/25")}, host));
}

TEST(NetIdentity, ASubnetOverlappingAHostInterfaceIsRefused) {
  auto c = check({itf("192.0.2.77/24", "192.0.2.1")});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, Kind::subnet) << ".77 is free, but the host routes 192.0.2.0/24 to eth0";
}

TEST(NetIdentity, ASubnetContainingAHostInterfaceAddressIsRefused) {
  auto c = check({itf("192.0.0.5/16")});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, Kind::subnet);
  EXPECT_EQ(c->message, "subnet 192.0.0.0/16 overlaps 192.0.2.0/24 of the host's interface eth0");
}

TEST(NetIdentity, OverlappingSubnetsWithinOneSpecAreRefused) {
  auto c = check({itf("10.91.0.2/24"), itf("10.91.0.3/16")}, HostNetwork{});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->index, 1u);
  EXPECT_EQ(c->kind, Kind::subnet);
  EXPECT_EQ(c->message, "subnet 10.91.0.0/16 overlaps 10.91.0.0/24 of network.interfaces[0]");
  EXPECT_FALSE(check(
      {itf("10.91.0.2/24", "", "02:00:00:00:00:01"), itf("10.91.0.3/24", "", "02:00:00:00:00:02")},
      HostNetwork{}))
      << "two interfaces on one subnet share its bridge";
}

TEST(NetIdentity, AHostLinkNameAlreadyTakenIsRefused) {
  HostNetwork host = host_with_a();
  Holder other = holder("new", "/var/lib/other");
  other.link = host_veth_name("new", 0);
  host.links.push_back(HostLink{other.link, other});
  auto c = check({itf("10.88.0.3/24")}, host);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, Kind::link_name);
  EXPECT_EQ(c->key, "network.interfaces[0]");
  EXPECT_EQ(c->message, "the host link name " + other.link +
                            " of this container is taken by container 'new' (--root "
                            "/var/lib/other)");
}

TEST(NetIdentity, ABridgeNameTakenByAnotherSubnetOrLinkIsRefused) {
  HostNetwork host;
  std::string name = bridge_name(parse_ipv4_cidr("10.92.0.0/24"));
  host.links.push_back(HostLink{name});
  auto foreign = check({itf("10.92.0.2/24")}, host);
  ASSERT_TRUE(foreign);
  EXPECT_EQ(foreign->kind, Kind::subnet);
  EXPECT_NE(foreign->message.find("not a crun-ckpt bridge"), std::string::npos);
  // A hash collision: the bridge of another subnet carries our bridge's name.
  host.links[0].is_bridge = true;
  host.bridges.push_back(HostBridge{name, parse_ipv4_cidr("10.200.0.0/24"), {}, {}, {}, {}});
  auto collision = check({itf("10.92.0.2/24")}, host);
  ASSERT_TRUE(collision);
  EXPECT_EQ(collision->message,
            "the bridge name " + name + " of 10.92.0.0/24 is taken by the bridge of 10.200.0.0/24");
}

TEST(NetIdentity, SubnetsOverlapWhenOneContainsTheOther) {
  auto c = [](const char* text) { return parse_ipv4_cidr(text); };
  EXPECT_TRUE(subnets_overlap(c("10.0.0.0/16"), c("10.0.5.0/24")));
  EXPECT_TRUE(subnets_overlap(c("10.0.5.0/24"), c("10.0.0.0/16")));
  EXPECT_TRUE(subnets_overlap(c("10.0.5.0/24"), c("10.0.5.0/24")));
  EXPECT_TRUE(subnets_overlap(c("0.0.0.0/0"), c("192.168.1.0/24")));
  EXPECT_TRUE(subnets_overlap(c("10.0.5.7/32"), c("10.0.5.0/24")));
  EXPECT_FALSE(subnets_overlap(c("10.0.5.0/24"), c("10.0.6.0/24")));
  EXPECT_FALSE(subnets_overlap(c("10.0.5.0/25"), c("10.0.5.128/25")));
  EXPECT_FALSE(subnets_overlap(c("10.0.0.0/16"), c("10.1.0.0/16")));
}

TEST(NetIdentity, BridgeMacIsFixedPerSubnetLocalAndUnicast) {
  config::MacAddress mac = bridge_mac(parse_ipv4_cidr("10.199.3.7/24"));
  EXPECT_EQ(mac.str(), "06:18:0a:c7:03:00");
  EXPECT_EQ(mac, bridge_mac(parse_ipv4_cidr("10.199.3.200/24"))) << "any address of the subnet";
  EXPECT_EQ(mac.bytes[0] & 0x02, 0x02) << "locally administered";
  EXPECT_EQ(mac.bytes[0] & 0x01, 0x00) << "unicast";
  EXPECT_NE(mac, bridge_mac(parse_ipv4_cidr("10.199.3.7/25"))) << "the prefix is part of it";
  EXPECT_NE(mac, bridge_mac(parse_ipv4_cidr("10.199.4.7/24")));
  EXPECT_NE(mac.bytes[0], config::mac_from_ipv4(parse_ipv4("10.199.3.7")).bytes[0])
      << "never a container's default MAC";
}

TEST(NetIdentity, OwnerAliasRoundTripsAndIsBounded) {
  NetworkOwner owner{"web-1.x", "/var/lib/my state"};
  EXPECT_EQ(owner_alias(owner), "crun-ckpt container web-1.x /var/lib/my state");
  EXPECT_EQ(parse_owner_alias(owner_alias(owner)), owner);
  EXPECT_FALSE(parse_owner_alias(""));
  EXPECT_FALSE(parse_owner_alias("uplink to the lab"));
  EXPECT_FALSE(parse_owner_alias("crun-ckpt container "));
  EXPECT_FALSE(parse_owner_alias("crun-ckpt bridge 10.0.0.0/24"));
  std::string alias = owner_alias(NetworkOwner{"x", "/" + std::string(400, 'r')});
  EXPECT_EQ(alias.size(), 255u) << "IFALIASZ";
  EXPECT_EQ(parse_owner_alias(alias)->id, "x");
}

TEST(NetIdentity, BridgeAliasRoundTrips) {
  EXPECT_EQ(bridge_alias(parse_ipv4_cidr("10.88.0.1/24")), "crun-ckpt bridge 10.88.0.0/24");
  EXPECT_EQ(parse_bridge_alias("crun-ckpt bridge 10.88.0.0/24"), parse_ipv4_cidr("10.88.0.0/24"));
  EXPECT_FALSE(parse_bridge_alias("crun-ckpt bridge nonsense"));
  EXPECT_FALSE(parse_bridge_alias("crun-ckpt container a /r"));
}

}  // namespace
}  // namespace ckpt::ns
