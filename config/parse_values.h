// Parsers and checks for the scalar values of a spec: sizes, IPv4 addresses and prefixes, MAC
// addresses, absolute paths, container ids, host and interface names, namespace and rlimit
// names. They know nothing of files or keys: each throws ckpt::Error(problem, 0, hint) and the
// reader that called it prepends "FILE:LINE:COL: KEY". Pure functions, no syscalls.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "config/spec.h"

namespace ckpt::config {

// Bytes as a decimal integer, or with one suffix: Ki Mi Gi Ti (1024-based, as in Kubernetes)
// or K M G T (1000-based). Case-sensitive ("256Mi", "1G", "4096"); no spaces, no fractions.
uint64_t parse_size(std::string_view text);
// A plain decimal integer in [0, max].
uint64_t parse_uint(std::string_view text, uint64_t max);

Ipv4Address parse_ipv4(std::string_view text);  // dotted quad, no leading zeros
// "10.88.0.2/24": an address usable by a host on that subnet (not the network or broadcast
// address when the prefix leaves room for them).
Ipv4Cidr parse_ipv4_cidr(std::string_view text);
bool cidr_contains(const Ipv4Cidr& net, const Ipv4Address& addr);
bool is_network_or_broadcast(const Ipv4Cidr& net, const Ipv4Address& addr);
// "02:00:0a:58:00:02": six hex pairs; unicast and not all zeros (the kernel refuses those on a
// link, EADDRNOTAVAIL).
MacAddress parse_mac(std::string_view text);
// 02:00:a:b:c:d — locally administered, unicast, unique as long as the addresses are.
MacAddress mac_from_ipv4(const Ipv4Address& addr);

// Absolute path, without ".." components (a destination must not climb out of the
// container root); returned with duplicate slashes, "." components and a trailing slash
// removed so that equal paths compare equal.
std::string normalize_absolute_path(std::string_view text);

// [A-Za-z0-9][A-Za-z0-9_.-]{0,63}
void check_container_id(std::string_view id);
// RFC 1123 host name, at most 64 bytes (HOST_NAME_MAX, the uts namespace limit).
void check_hostname(std::string_view name);
// A Linux network interface name (IFNAMSIZ-1 = 15 bytes, no '/', ':' or spaces), not "lo".
void check_interface_name(std::string_view name);

// "pid", "mount", "net", "uts", "ipc", "time", "user", "cgroup".
Namespace parse_namespace(std::string_view name);
// "nofile" -> RLIMIT_NOFILE, for the names listed in spec_yaml.h.
int rlimit_resource(std::string_view name);
// The list of accepted rlimit names, for hints.
std::string rlimit_names();

}  // namespace ckpt::config
