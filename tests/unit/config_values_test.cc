#include <gtest/gtest.h>
#include <sys/resource.h>

#include <functional>

#include "common/error.h"
#include "config/parse_values.h"

namespace ckpt::config {
namespace {

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ConfigValues, Sizes) {
  EXPECT_EQ(parse_size("0"), 0u);
  EXPECT_EQ(parse_size("256Mi"), 256u << 20);
  EXPECT_EQ(parse_size("1Ti"), 1ull << 40);
  EXPECT_EQ(parse_size("5G"), 5000000000ull);
  EXPECT_EQ(parse_size("18446744073709551615"), UINT64_MAX);
  for (const char* bad : {"", "Mi", "1 Mi", "1mi", "1k", "1MiB", "-1", "1.5G", "0x10", "1e3"}) {
    EXPECT_EQ(error_of([&] { parse_size(bad); }),
              "'" + std::string(bad) +
                  "' is not a size (use bytes or a suffix: Ki, Mi, Gi, Ti, K, M, G, T)");
  }
  EXPECT_EQ(error_of([] { parse_size("18446744073709551616"); }),
            "'18446744073709551616' is not a size (use bytes or a suffix: Ki, Mi, Gi, Ti, K, M, "
            "G, T)");
  EXPECT_EQ(error_of([] { parse_size("17179869184Gi"); }),
            "'17179869184Gi' is too large (use bytes or a suffix: Ki, Mi, Gi, Ti, K, M, G, T)");
}

TEST(ConfigValues, Ipv4) {
  EXPECT_EQ(parse_ipv4("10.88.0.2").str(), "10.88.0.2");
  EXPECT_EQ(parse_ipv4("255.255.255.255").str(), "255.255.255.255");
  for (const char* bad : {"", "10.88.0", "10.88.0.2.1", "10.88.0.256", "010.1.1.1", "a.b.c.d",
                          "10..0.1", "10.88.0.2 ", "1.2.3.-4"}) {
    EXPECT_EQ(
        error_of([&] { parse_ipv4(bad); }),
        "'" + std::string(bad) + "' is not an IPv4 address (use a dotted quad like 10.88.0.2)");
  }
  Ipv4Cidr c = parse_ipv4_cidr("10.88.0.2/24");
  EXPECT_EQ(c.prefix, 24);
  EXPECT_TRUE(cidr_contains(c, parse_ipv4("10.88.0.254")));
  EXPECT_FALSE(cidr_contains(c, parse_ipv4("10.88.1.1")));
  EXPECT_EQ(parse_ipv4_cidr("10.0.0.0/31").str(), "10.0.0.0/31");  // RFC 3021: no network address
  EXPECT_EQ(parse_ipv4_cidr("0.0.0.1/0").prefix, 0);
  EXPECT_EQ(error_of([] { parse_ipv4_cidr("10.88.0.255/24"); }),
            "'10.88.0.255/24' is the network or broadcast address of its subnet (pick a host "
            "address inside the subnet)");
  EXPECT_EQ(error_of([] { parse_ipv4_cidr("10.88.0.2/024"); }),
            "'10.88.0.2/024' has a bad prefix length (use 0 to 32, e.g. /24)");
}

TEST(ConfigValues, Mac) {
  EXPECT_EQ(parse_mac("02:00:0A:58:00:02").str(), "02:00:0a:58:00:02");
  for (const char* bad :
       {"02:00:0a:58:00", "02-00-0a-58-00-02", "02:00:0a:58:00:0g", "02:00:0a:58:00:022"}) {
    EXPECT_EQ(error_of([&] { parse_mac(bad); }),
              "'" + std::string(bad) +
                  "' is not a MAC address (use six hex pairs like "
                  "02:00:0a:58:00:02)");
  }
  EXPECT_EQ(error_of([] { parse_mac("00:00:00:00:00:00"); }),
            "'00:00:00:00:00:00' is the all-zero MAC address (use six hex pairs like "
            "02:00:0a:58:00:02)");
  EXPECT_EQ(mac_from_ipv4(parse_ipv4("10.88.0.2")).str(), "02:00:0a:58:00:02");
}

TEST(ConfigValues, Paths) {
  EXPECT_EQ(normalize_absolute_path("/"), "/");
  EXPECT_EQ(normalize_absolute_path("//srv//data/./x/"), "/srv/data/x");
  EXPECT_EQ(normalize_absolute_path("/a/..b"), "/a/..b");  // only a whole component is ".."
  EXPECT_EQ(error_of([] { normalize_absolute_path(""); }),
            "'' is not an absolute path (start it with /)");
  EXPECT_EQ(error_of([] { normalize_absolute_path("/a/.."); }),
            "'/a/..' contains '..' (write the path without '..')");
}

TEST(ConfigValues, Names) {
  EXPECT_EQ(error_of([] { check_container_id("a"); }), "(no error)");
  EXPECT_EQ(error_of([] { check_container_id("web-1.prod_A"); }), "(no error)");
  EXPECT_EQ(error_of([] { check_container_id(std::string(64, 'a')); }), "(no error)");
  for (const std::string& bad : {std::string(""), std::string(65, 'a'), std::string(".a"),
                                 std::string("a/b"), std::string("a b"), std::string("_a")}) {
    EXPECT_NE(error_of([&] { check_container_id(bad); }), "(no error)") << bad;
  }
  EXPECT_EQ(error_of([] { check_hostname("web-1.example.org"); }), "(no error)");
  for (const std::string& bad :
       {std::string(""), std::string("a..b"), std::string("-a"), std::string("a-"),
        std::string("a_b"), std::string("a."), std::string(65, 'a'), std::string(64, 'a')}) {
    EXPECT_NE(error_of([&] { check_hostname(bad); }), "(no error)") << bad;
  }
  EXPECT_EQ(error_of([] { check_interface_name("eth0"); }), "(no error)");
  EXPECT_EQ(error_of([] { check_interface_name("veth-0123456789"); }), "(no error)");
  for (const char* bad : {"", "veth-01234567890", "a/b", "a:1", "a b", ".", ".."}) {
    EXPECT_NE(error_of([&] { check_interface_name(bad); }), "(no error)") << bad;
  }
  EXPECT_EQ(error_of([] { check_interface_name("lo"); }),
            "'lo' is reserved (the loopback interface is always configured; remove it)");
}

TEST(ConfigValues, NamespacesAndRlimits) {
  EXPECT_EQ(parse_namespace("net"), Namespace::net);
  EXPECT_EQ(parse_namespace("cgroup"), Namespace::cgroup);
  EXPECT_EQ(error_of([] { parse_namespace("Pid"); }),
            "'Pid' is not a namespace (use pid, mount, net, uts, ipc, time, user, cgroup)");
  EXPECT_EQ(rlimit_resource("nofile"), RLIMIT_NOFILE);
  EXPECT_EQ(rlimit_resource("rttime"), RLIMIT_RTTIME);
  EXPECT_EQ(error_of([] { rlimit_resource("NOFILE"); }),
            "'NOFILE' is not an rlimit (use as, core, cpu, data, fsize, locks, memlock, "
            "msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack)");
}

}  // namespace
}  // namespace ckpt::config
