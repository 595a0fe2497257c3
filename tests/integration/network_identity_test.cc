// Network identities that cannot collide, through the crun-ckpt binary: a second container
// claiming the first one's address, MAC, gateway or an overlapping subnet is refused in one
// line naming the first, which stays reachable, and leaves nothing; two racing `run`s for one
// address make one winner; a copy restored beside its running original is refused, or runs
// with --network-detached (its interfaces inside, nothing on the host); and the bridge keeps
// its own MAC, so deleting one container does not cut the others off from their gateway.
// Every address used is inside a /24 claimed by this test process (unique_subnet_prefix) and
// held by namespaces the test creates.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "config/parse_values.h"
#include "container_fixture.h"
#include "harness.h"
#include "ns/net_identity.h"
#include "ns/network.h"

namespace ckpt::test {
namespace {

using std::chrono::seconds;

// A container that sleeps, with one interface.
std::string net_spec(Cli& cli, const std::string& id, const std::string& address,
                     const std::string& gateway, const std::string& mac = "") {
  cli.track(id);
  std::string itf = "{name: eth0, address: " + address;
  if (!gateway.empty()) itf += ", gateway: " + gateway;
  if (!mac.empty()) itf += ", mac: \"" + mac + "\"";
  return write_spec(cli, id, {"/bin/sleep", "600"},
                    "network:\n  interfaces:\n    - " + itf + "}\n");
}

std::string sys_net(const std::string& link, const std::string& file) {
  std::string text = slurp("/sys/class/net/" + link + "/" + file);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

bool link_exists(const std::string& name) {
  return std::filesystem::exists("/sys/class/net/" + name);
}

// The host reaches `ip` (inside a container of this test) through its bridge.
bool host_reaches(const std::string& ip) {
  return run_command({"/bin/ping", "-c", "1", "-W", "5", ip}, seconds(15)).exit_code == 0;
}

std::string bridge_of(const std::string& prefix, int bits = 24) {
  return ns::bridge_name(
      config::Ipv4Cidr{config::parse_ipv4(prefix + ".0"), static_cast<uint8_t>(bits)});
}

std::vector<std::string> bridge_ports(const std::string& bridge) {
  std::vector<std::string> out;
  std::string dir = "/sys/class/net/" + bridge + "/brif";
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

// A refusal is exactly one line on stderr, exit status 1.
void expect_one_line_refusal(const CommandResult& r) {
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.rfind("crun-ckpt: ", 0), 0u) << r.err;
}

// The first container, `a`, at PREFIX.2/24 via PREFIX.1, running and reachable.
struct First {
  First(Cli& cli, const std::string& prefix, const std::string& address_suffix = ".2/24")
      : id(unique_name("first")), ip(prefix + ".2") {
    auto r = cli({"run", "-d", net_spec(cli, id, prefix + address_suffix, prefix + ".1")});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    mac = config::mac_from_ipv4(config::parse_ipv4(ip)).str();
  }
  std::string id, ip, mac;
};

// The first container is untouched: running, its interface as it was, reachable.
void expect_untouched(Cli& cli, const First& a) {
  EXPECT_NE(cli({"state", a.id}).out.find("\"running\""), std::string::npos);
  auto mac = cli({"exec", a.id, "--", "/bin/cat", "/sys/class/net/eth0/address"});
  EXPECT_EQ(mac.out, a.mac + "\n") << mac.err;
  EXPECT_TRUE(host_reaches(a.ip));
}

TEST(NetworkIdentity, SecondContainerWithTheSameAddressIsRefusedNamingTheFirst) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string prefix = unique_subnet_prefix();
  First a(cli, prefix);
  std::string b = unique_name("second");
  // Its own MAC, so only the address collides.
  auto r = cli({"run", "-d", net_spec(cli, b, a.ip + "/24", prefix + ".1", "02:42:00:00:00:07")});
  expect_one_line_refusal(r);
  EXPECT_NE(r.err.find("network.interfaces[0].address: " + a.ip +
                       " is already the address of container '" + a.id + "'"),
            std::string::npos)
      << r.err;
  EXPECT_NO_LEFTOVERS(cli, b);
  expect_untouched(cli, a);
}

TEST(NetworkIdentity, SecondContainerWithTheSameMacIsRefusedNamingTheFirst) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string prefix = unique_subnet_prefix();
  First a(cli, prefix);
  std::string b = unique_name("second");
  auto r = cli({"run", "-d", net_spec(cli, b, prefix + ".3/24", prefix + ".1", a.mac)});
  expect_one_line_refusal(r);
  EXPECT_NE(r.err.find("network.interfaces[0].mac: " + a.mac +
                       " is already the MAC of container '" + a.id + "'"),
            std::string::npos)
      << r.err;
  EXPECT_NO_LEFTOVERS(cli, b);
  expect_untouched(cli, a);
}

TEST(NetworkIdentity, ContainerTakingTheGatewayAddressIsRefused) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string prefix = unique_subnet_prefix();
  First a(cli, prefix);
  std::string b = unique_name("second");
  auto r = cli({"run", "-d", net_spec(cli, b, prefix + ".1/24", prefix + ".254")});
  expect_one_line_refusal(r);
  EXPECT_NE(r.err.find("network.interfaces[0].address: " + prefix +
                       ".1 is the gateway address of bridge " + bridge_of(prefix)),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("used by container '" + a.id + "'"), std::string::npos) << r.err;
  EXPECT_NO_LEFTOVERS(cli, b);
  // The bridge did not get .254: the refused container added nothing to it.
  auto addrs = run_command({"/sbin/ip", "-o", "-4", "addr", "show", "dev", bridge_of(prefix)});
  EXPECT_EQ(addrs.out.find(prefix + ".254"), std::string::npos) << addrs.out;
  expect_untouched(cli, a);
}

TEST(NetworkIdentity, OverlappingSubnetIsRefusedAndGetsNoSecondBridge) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string prefix = unique_subnet_prefix();
  // The first on the lower half (/25) of our /24; the second wants the whole /24.
  First a(cli, prefix, ".2/25");
  std::string b = unique_name("second");
  auto r = cli({"run", "-d", net_spec(cli, b, prefix + ".130/24", prefix + ".129")});
  expect_one_line_refusal(r);
  EXPECT_NE(
      r.err.find("network.interfaces[0].address: subnet " + prefix + ".0/24 overlaps " + prefix +
                 ".0/25 of bridge " + bridge_of(prefix, 25) + ", used by container '" + a.id + "'"),
      std::string::npos)
      << r.err;
  EXPECT_NO_LEFTOVERS(cli, b, prefix);  // with the prefix: no bridge for the /24 either
  EXPECT_TRUE(link_exists(bridge_of(prefix, 25)));
  expect_untouched(cli, a);
}

TEST(NetworkIdentity, TwoRunsRacingForOneAddressMakeExactlyOneWinner) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string prefix = unique_subnet_prefix();
  std::string ip = prefix + ".5";
  std::vector<std::string> ids = {unique_name("race"), unique_name("race")};
  std::vector<std::string> specs = {
      net_spec(cli, ids[0], ip + "/24", prefix + ".1", "02:42:00:00:00:01"),
      net_spec(cli, ids[1], ip + "/24", prefix + ".1", "02:42:00:00:00:02")};
  std::vector<CommandResult> results(2);
  {
    std::vector<std::thread> runs;
    for (int i = 0; i < 2; ++i)
      runs.emplace_back([&, i] { results[i] = cli({"run", "-d", specs[i]}); });
    for (auto& t : runs) t.join();
  }
  int winners = (results[0].exit_code == 0) + (results[1].exit_code == 0);
  ASSERT_EQ(winners, 1) << results[0].err << results[1].err;
  int w = results[0].exit_code == 0 ? 0 : 1;
  const CommandResult& lost = results[1 - w];
  expect_one_line_refusal(lost);
  EXPECT_NE(lost.err.find(ip + " is already the address of container '" + ids[w] + "'"),
            std::string::npos)
      << lost.err;
  EXPECT_NO_LEFTOVERS(cli, ids[1 - w]);
  EXPECT_TRUE(host_reaches(ip));
  auto mac = cli({"exec", ids[w], "--", "/bin/cat", "/sys/class/net/eth0/address"});
  EXPECT_EQ(mac.out, (w == 0 ? "02:42:00:00:00:01\n" : "02:42:00:00:00:02\n"));
}

// The original of a copy: running with a fixed MAC, and its image taken with --leave-running.
struct CheckpointedOriginal {
  CheckpointedOriginal(Cli& cli, const std::string& prefix)
      : id(unique_name("orig")),
        ip(prefix + ".2"),
        gateway(prefix + ".1"),
        mac("02:42:0a:00:00:02"),
        image(cli.scratch().file("image")) {
    auto r = cli({"run", "-d", net_spec(cli, id, ip + "/24", gateway, mac)});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto ck = cli({"checkpoint", "--leave-running", "--image-path", image, id}, seconds(120));
    EXPECT_EQ(ck.exit_code, 0) << ck.err;
  }
  std::string id, ip, gateway, mac, image;
};

TEST(NetworkIdentity, CopyRestoredBesideItsRunningOriginalIsRefusedWithAHint) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string prefix = unique_subnet_prefix();
  CheckpointedOriginal orig(cli, prefix);
  std::string copy = unique_name("copy");
  cli.track(copy);
  auto r = cli({"restore", "-d", "--image-path", orig.image, "--name", copy}, seconds(120));
  expect_one_line_refusal(r);
  EXPECT_NE(r.err.find(orig.ip + " is already the address of container '" + orig.id + "'"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("--network-detached"), std::string::npos) << r.err;
  EXPECT_NO_LEFTOVERS(cli, copy);
  EXPECT_EQ(bridge_ports(bridge_of(prefix)),
            std::vector<std::string>{ns::host_veth_name(orig.id, 0)});
  EXPECT_TRUE(host_reaches(orig.ip));
}

TEST(NetworkIdentity, CopyRestoredDetachedHasItsInterfacesInsideAndNoHostSide) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string prefix = unique_subnet_prefix();
  CheckpointedOriginal orig(cli, prefix);
  std::string copy = unique_name("copy");
  cli.track(copy);
  auto r = cli({"restore", "-d", "--image-path", orig.image, "--name", copy, "--network-detached"},
               seconds(120));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(cli({"state", copy}).out.find("\"running\""), std::string::npos);

  // Inside: the same name, MAC, address and default route as the original.
  auto mac = cli({"exec", copy, "--", "/bin/cat", "/sys/class/net/eth0/address"});
  EXPECT_EQ(mac.out, orig.mac + "\n") << mac.err;
  auto addr = cli({"exec", copy, "--", "/sbin/ip", "-o", "-4", "addr", "show", "eth0"});
  EXPECT_NE(addr.out.find(orig.ip + "/24"), std::string::npos) << addr.out << addr.err;
  auto route = cli({"exec", copy, "--", "/sbin/ip", "route", "show", "default"});
  EXPECT_NE(route.out.find("default via " + orig.gateway + " dev eth0"), std::string::npos)
      << route.out << route.err;
  auto up = cli({"exec", copy, "--", "/bin/cat", "/sys/class/net/eth0/operstate"});
  EXPECT_NE(up.out, "down\n");

  // No host side: no link of the copy, the bridge has only the original's port, and nothing the
  // copy sends reaches the gateway.
  EXPECT_FALSE(link_exists(ns::host_veth_name(copy, 0)));
  EXPECT_EQ(bridge_ports(bridge_of(prefix)),
            std::vector<std::string>{ns::host_veth_name(orig.id, 0)});
  auto ping = cli({"exec", copy, "--", "/bin/ping", "-c", "1", "-W", "1", orig.gateway});
  EXPECT_NE(ping.exit_code, 0) << ping.out;
  EXPECT_TRUE(host_reaches(orig.ip));
  auto orig_mac = cli({"exec", orig.id, "--", "/bin/cat", "/sys/class/net/eth0/address"});
  EXPECT_EQ(orig_mac.out, orig.mac + "\n");

  // Deleting the copy takes nothing of the original's.
  ASSERT_EQ(cli({"delete", "-f", copy}).exit_code, 0);
  EXPECT_NO_LEFTOVERS(cli, copy);
  EXPECT_TRUE(link_exists(ns::host_veth_name(orig.id, 0)));
  EXPECT_TRUE(host_reaches(orig.ip));
}

// The bridge's MAC is its own from creation, so it does not follow its lowest port: deleting
// the container whose veth has the lowest MAC (the one the bridge would have taken) changes
// nothing for the other, whose neighbour entry for the gateway stays right.
TEST(NetworkIdentity, DeletingOneContainerKeepsTheOthersGatewayReachable) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string prefix = unique_subnet_prefix();
  std::string gateway = prefix + ".1";
  std::vector<std::string> ids = {unique_name("pair"), unique_name("pair")};
  for (size_t i = 0; i < ids.size(); ++i) {
    auto r = cli({"run", "-d",
                  net_spec(cli, ids[i], prefix + "." + std::to_string(i + 2) + "/24", gateway)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::string bridge = bridge_of(prefix);
  config::Ipv4Cidr subnet{config::parse_ipv4(prefix + ".0"), 24};
  std::string bridge_mac = sys_net(bridge, "address");
  EXPECT_EQ(bridge_mac, ns::bridge_mac(subnet).str());
  for (const auto& id : ids) {
    // Both learn the gateway's MAC (their neighbour entry is REACHABLE for 15-45 s).
    auto ping = cli({"exec", id, "--", "/bin/ping", "-c", "1", "-W", "5", gateway});
    ASSERT_EQ(ping.exit_code, 0) << ping.out << ping.err;
  }
  // The kernel would give the bridge the lowest port MAC (br_stp_recalculate_bridge_id).
  size_t victim = sys_net(ns::host_veth_name(ids[0], 0), "address") <
                          sys_net(ns::host_veth_name(ids[1], 0), "address")
                      ? 0
                      : 1;
  const std::string& survivor = ids[1 - victim];
  ASSERT_EQ(cli({"delete", "-f", ids[victim]}).exit_code, 0);
  EXPECT_EQ(sys_net(bridge, "address"), bridge_mac);
  // At once and without loss: five pings in about a second, all answered within 3 s.
  auto ping =
      cli({"exec", survivor, "--", "/bin/ping", "-c", "5", "-i", "0.2", "-w", "3", gateway});
  EXPECT_EQ(ping.exit_code, 0) << ping.out << ping.err;
  EXPECT_NE(ping.out.find(" 0% packet loss"), std::string::npos) << ping.out;
}

}  // namespace
}  // namespace ckpt::test
