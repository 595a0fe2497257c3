// setup_network / teardown_network against a child in a new network namespace: the child
// checks its interface from inside and serves one TCP exchange on its address, which the test
// (on the host) connects to through the bridge.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "common/error.h"
#include "harness.h"
#include "ns/network.h"
#include "ns_child.h"

namespace ckpt::test {
namespace {

constexpr uint16_t kPort = 7777;

// A /24 unique to this test: 10.<200 + pid%50>.<(pid/50 + n) % 256>.0/24.
std::array<uint8_t, 2> unique_subnet() {
  static std::atomic<int> counter{0};
  int pid = getpid();
  return {static_cast<uint8_t>(200 + pid % 50), static_cast<uint8_t>((pid / 50 + counter++) % 256)};
}

config::Interface make_interface(const std::string& name, std::array<uint8_t, 2> net,
                                 uint8_t host) {
  config::Interface itf;
  itf.name = name;
  itf.address = {config::Ipv4Address{{10, net[0], net[1], host}}, 24};
  itf.gateway = config::Ipv4Address{{10, net[0], net[1], 1}};
  itf.mac = config::MacAddress{{0x02, 0x42, net[0], net[1], host, 0x5a}};
  return itf;
}

bool link_exists(const std::string& name) {
  return if_nametoindex(name.c_str()) != 0;
}

// Tears the network down even when an assertion fails.
struct NetworkGuard {
  const config::ContainerSpec& spec;
  ns::NetworkOwner owner;
  ~NetworkGuard() {
    try {
      ns::teardown_network(spec, owner);
    } catch (const Error& e) {
      ADD_FAILURE() << "teardown: " << e.what();
    }
  }
};

std::string ifreq_query(int sock, const std::string& name, unsigned long request) {
  ifreq req{};
  std::snprintf(req.ifr_name, IFNAMSIZ, "%s", name.c_str());
  if (ioctl(sock, request, &req) < 0) return "error " + std::to_string(errno);
  if (request == SIOCGIFHWADDR) {
    config::MacAddress mac;
    for (int i = 0; i < 6; ++i) mac.bytes[i] = static_cast<uint8_t>(req.ifr_hwaddr.sa_data[i]);
    return mac.str();
  }
  if (request == SIOCGIFFLAGS) return (req.ifr_flags & IFF_UP) ? "up" : "down";
  auto* in = reinterpret_cast<sockaddr_in*>(&req.ifr_addr);
  return inet_ntoa(in->sin_addr);
}

// Gateway of the default route, from /proc/net/route (of the reader's network namespace).
std::string default_gateway() {
  std::ifstream in("/proc/net/route");
  std::string iface, dest, gw;
  std::string line;
  std::getline(in, line);
  while (in >> iface >> dest >> gw) {
    std::getline(in, line);
    if (dest == "00000000") {
      in_addr a{};
      a.s_addr = static_cast<in_addr_t>(std::stoul(gw, nullptr, 16));
      return iface + " via " + inet_ntoa(a);
    }
  }
  return "none";
}

// The container: reports what it sees, then echoes one byte (+1) to one TCP client.
int container_body(const config::Interface& itf, int fd, int go) {
  wait_go(go);
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  report(fd, "mac", ifreq_query(sock, itf.name, SIOCGIFHWADDR));
  report(fd, "addr", ifreq_query(sock, itf.name, SIOCGIFADDR));
  report(fd, "flags", ifreq_query(sock, itf.name, SIOCGIFFLAGS));
  report(fd, "lo", ifreq_query(sock, "lo", SIOCGIFFLAGS));
  report(fd, "route", default_gateway());

  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(kPort);
  std::memcpy(&sa.sin_addr, itf.address.address.bytes.data(), 4);
  if (bind(listener, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0 || listen(listener, 1) < 0) {
    report(fd, "listening", "error " + std::to_string(errno));
    return 1;
  }
  report(fd, "listening", "1");
  pollfd p{listener, POLLIN, 0};
  if (poll(&p, 1, 30'000) != 1) return 2;
  int conn = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  char c = 0;
  if (conn < 0 || read(conn, &c, 1) != 1) return 3;
  ++c;
  if (write(conn, &c, 1) != 1) return 4;
  close(conn);
  return 0;
}

// Connects to addr:kPort from the host, sends 'a', returns the reply ('b' expected).
std::string exchange(const config::Ipv4Address& addr) {
  int sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{10, 0};
  setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(kPort);
  std::memcpy(&sa.sin_addr, addr.bytes.data(), 4);
  std::string result;
  char c = 'a';
  if (connect(sock, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0)
    result = std::string("connect: ") + strerror(errno);
  else if (write(sock, &c, 1) != 1 || read(sock, &c, 1) != 1)
    result = std::string("exchange: ") + strerror(errno);
  else
    result = std::string(1, c);
  close(sock);
  return result;
}

TEST(NsNetwork, VethOnBridgeReachableFromHostAndTornDown) {
  CKPT_REQUIRE_ROOT();
  config::ContainerSpec spec;
  spec.network.interfaces = {make_interface("eth0", unique_subnet(), 2)};
  const config::Interface& itf = spec.network.interfaces[0];
  std::string id = unique_name("nt");
  ns::NetworkOwner owner{id, "/run/crun-ckpt-test"};
  std::string veth = ns::host_veth_name(id, 0);
  std::string bridge = ns::bridge_name(itf.address);
  ASSERT_FALSE(link_exists(veth));
  ASSERT_FALSE(link_exists(bridge)) << "subnet " << itf.address.str() << " is in use";

  NsChild child(CLONE_NEWNET, [&](int fd, int go) { return container_body(itf, fd, go); });
  ASSERT_GT(child.pid(), 0) << "clone3: " << strerror(errno);
  {
    NetworkGuard guard{spec, owner};
    ASSERT_NO_THROW(ns::setup_network(spec, owner, child.pid()));
    EXPECT_TRUE(link_exists(veth));
    EXPECT_TRUE(link_exists(bridge));
    // The bridge has its own MAC; the host end names its container and root.
    EXPECT_EQ(slurp("/sys/class/net/" + bridge + "/address"),
              ns::bridge_mac(itf.address).str() + "\n");
    EXPECT_EQ(slurp("/sys/class/net/" + veth + "/ifalias"), ns::owner_alias(owner) + "\n");
    // A container of the same id under another --root does not tear down this one's link.
    ns::teardown_network(spec, ns::NetworkOwner{id, "/elsewhere"});
    EXPECT_TRUE(link_exists(veth));
    child.go();
    auto r = child.read_report("listening");
    EXPECT_EQ(r["mac"], itf.mac->str());
    EXPECT_EQ(r["addr"], itf.address.address.str());
    EXPECT_EQ(r["flags"], "up");
    EXPECT_EQ(r["lo"], "up");
    EXPECT_EQ(r["route"], "eth0 via " + itf.gateway->str());
    ASSERT_EQ(r["listening"], "1");
    EXPECT_EQ(exchange(itf.address.address), "b");
    EXPECT_EQ(child.wait(), 0);
    ns::teardown_network(spec, owner);
    EXPECT_FALSE(link_exists(veth));
    EXPECT_FALSE(link_exists(bridge));
    EXPECT_NO_THROW(ns::teardown_network(spec, owner)) << "teardown must be idempotent";
  }
}

TEST(NsNetwork, FailureMidwayRemovesWhatWasCreated) {
  CKPT_REQUIRE_ROOT();
  auto net = unique_subnet();
  config::ContainerSpec spec;
  // The second interface reuses the container name eth0: its veth cannot be created.
  spec.network.interfaces = {make_interface("eth0", net, 2), make_interface("eth0", net, 3)};
  std::string id = unique_name("nf");
  ns::NetworkOwner owner{id, "/run/crun-ckpt-test"};
  std::string bridge = ns::bridge_name(spec.network.interfaces[0].address);
  ASSERT_FALSE(link_exists(bridge)) << "subnet in use";

  NsChild child(CLONE_NEWNET, [](int, int go) {
    wait_go(go);
    return 0;
  });
  ASSERT_GT(child.pid(), 0) << "clone3: " << strerror(errno);
  NetworkGuard guard{spec, owner};
  try {
    ns::setup_network(spec, owner, child.pid());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("network.interfaces[1]"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(link_exists(ns::host_veth_name(id, 0)));
  EXPECT_FALSE(link_exists(ns::host_veth_name(id, 1)));
  EXPECT_FALSE(link_exists(bridge));
}

TEST(NsNetwork, NoInterfacesBringsUpLoopbackOnly) {
  CKPT_REQUIRE_ROOT();
  config::ContainerSpec spec;
  std::string id = unique_name("nl");
  ns::NetworkOwner owner{id, "/run/crun-ckpt-test"};
  NsChild child(CLONE_NEWNET, [](int fd, int go) {
    wait_go(go);
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    report(fd, "lo", ifreq_query(sock, "lo", SIOCGIFFLAGS));
    return 0;
  });
  ASSERT_GT(child.pid(), 0) << "clone3: " << strerror(errno);
  ASSERT_NO_THROW(ns::setup_network(spec, owner, child.pid()));
  EXPECT_FALSE(link_exists(ns::host_veth_name(id, 0)));
  child.go();
  EXPECT_EQ(child.read_report()["lo"], "up");
  EXPECT_EQ(child.wait(), 0);
}

}  // namespace
}  // namespace ckpt::test
