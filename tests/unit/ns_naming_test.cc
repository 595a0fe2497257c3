#include <gtest/gtest.h>

#include "ns/network.h"

namespace ckpt::ns {
namespace {

config::Ipv4Cidr cidr(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint8_t prefix) {
  return config::Ipv4Cidr{config::Ipv4Address{{a, b, c, d}}, prefix};
}

TEST(NsNaming, HostVethNameFitsIfnamsizAndIsStable) {
  std::string name = host_veth_name("a-container-id-that-is-quite-long-indeed", 0);
  EXPECT_LE(name.size(), 15u);
  EXPECT_EQ(name.rfind("ckpt", 0), 0u);
  EXPECT_EQ(name, host_veth_name("a-container-id-that-is-quite-long-indeed", 0));
  EXPECT_LE(host_veth_name("x", 999).size(), 15u);
}

TEST(NsNaming, HostVethNameDiffersByIdAndIndex) {
  EXPECT_NE(host_veth_name("web", 0), host_veth_name("db", 0));
  EXPECT_NE(host_veth_name("web", 0), host_veth_name("web", 1));
}

TEST(NsNaming, HostVethNameKnownValue) {
  // FNV-1a 32 of "" is its offset basis 0x811c9dc5: the hash is the documented one.
  EXPECT_EQ(host_veth_name("", 3), "ckpt811c9dc53");
}

TEST(NsNaming, BridgeNameIsPerSubnet) {
  std::string a = bridge_name(cidr(10, 88, 0, 2, 24));
  EXPECT_EQ(a, bridge_name(cidr(10, 88, 0, 77, 24)));
  EXPECT_NE(a, bridge_name(cidr(10, 88, 1, 2, 24)));
  EXPECT_NE(a, bridge_name(cidr(10, 88, 0, 2, 16)));
  EXPECT_EQ(a.rfind("ckptbr", 0), 0u);
  EXPECT_LE(a.size(), 15u);
}

TEST(NsNaming, SubnetOfClearsHostBits) {
  EXPECT_EQ(subnet_of(cidr(10, 1, 2, 5, 24)), cidr(10, 1, 2, 0, 24));
  EXPECT_EQ(subnet_of(cidr(10, 1, 255, 5, 20)), cidr(10, 1, 240, 0, 20));
  EXPECT_EQ(subnet_of(cidr(10, 1, 2, 5, 0)), cidr(0, 0, 0, 0, 0));
  EXPECT_EQ(subnet_of(cidr(10, 1, 2, 5, 32)), cidr(10, 1, 2, 5, 32));
}

}  // namespace
}  // namespace ckpt::ns
