// Host-side interface names. IFNAMSIZ is 16, so a name holds at most 15 characters: the
// container id and the subnet are reduced to a 32-bit FNV-1a hash. The names are a pure
// function of the spec and id, so teardown needs no state.
#include <cstdint>
#include <cstdio>
#include <string_view>

#include "ns/network.h"

namespace ckpt::ns {
namespace {

uint32_t fnv1a(std::string_view text) {
  uint32_t hash = 2166136261u;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 16777619u;
  }
  return hash;
}

std::string hex8(uint32_t value) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", value);
  return buf;
}

}  // namespace

std::string host_veth_name(const std::string& container_id, size_t index) {
  // "ckpt" + 8 + up to 3 digits = 15; more than 999 interfaces is not a container we run.
  return "ckpt" + hex8(fnv1a(container_id)) + std::to_string(index % 1000);
}

config::Ipv4Cidr subnet_of(const config::Ipv4Cidr& cidr) {
  config::Ipv4Cidr net = cidr;
  uint32_t addr = 0;
  for (uint8_t b : cidr.address.bytes) addr = addr << 8 | b;
  uint32_t mask = cidr.prefix == 0 ? 0 : ~uint32_t{0} << (32 - cidr.prefix);
  addr &= mask;
  for (int i = 3; i >= 0; --i, addr >>= 8) net.address.bytes[i] = static_cast<uint8_t>(addr);
  return net;
}

std::string bridge_name(const config::Ipv4Cidr& subnet) {
  return "ckptbr" + hex8(fnv1a(subnet_of(subnet).str()));
}

}  // namespace ckpt::ns
