#include "config/parse_values.h"

#include <sys/resource.h>

#include <array>
#include <charconv>
#include <optional>
#include <utility>

#include "common/error.h"

namespace ckpt::config {
namespace {

std::string quoted(std::string_view text) {
  return "'" + std::string(text) + "'";
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Decimal digits only: from_chars alone would accept a leading '-' for signed types and stop
// silently at the first non-digit.
std::optional<uint64_t> decimal(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  for (char c : text) {
    if (!is_digit(c)) return std::nullopt;
  }
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

int hex_digit(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

uint32_t to_u32(const Ipv4Address& a) {
  return (uint32_t{a.bytes[0]} << 24) | (uint32_t{a.bytes[1]} << 16) | (uint32_t{a.bytes[2]} << 8) |
         uint32_t{a.bytes[3]};
}

uint32_t prefix_mask(uint8_t prefix) {
  return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
}

constexpr std::array<std::pair<std::string_view, int>, 16> kRlimits = {{
    {"as", RLIMIT_AS},
    {"core", RLIMIT_CORE},
    {"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},
    {"fsize", RLIMIT_FSIZE},
    {"locks", RLIMIT_LOCKS},
    {"memlock", RLIMIT_MEMLOCK},
    {"msgqueue", RLIMIT_MSGQUEUE},
    {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE},
    {"nproc", RLIMIT_NPROC},
    {"rss", RLIMIT_RSS},
    {"rtprio", RLIMIT_RTPRIO},
    {"rttime", RLIMIT_RTTIME},
    {"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK},
}};

}  // namespace

uint64_t parse_size(std::string_view text) {
  static constexpr const char* kHint = "use bytes or a suffix: Ki, Mi, Gi, Ti, K, M, G, T";
  struct Suffix {
    std::string_view name;
    uint64_t factor;
  };
  static constexpr std::array<Suffix, 8> kSuffixes = {{
      {"Ki", 1ull << 10},
      {"Mi", 1ull << 20},
      {"Gi", 1ull << 30},
      {"Ti", 1ull << 40},
      {"K", 1000ull},
      {"M", 1000ull * 1000},
      {"G", 1000ull * 1000 * 1000},
      {"T", 1000ull * 1000 * 1000 * 1000},
  }};
  size_t digits = 0;
  while (digits < text.size() && is_digit(text[digits])) ++digits;
  std::string_view suffix = text.substr(digits);
  uint64_t factor = 1;
  if (!suffix.empty()) {
    factor = 0;
    for (const auto& s : kSuffixes) {
      if (suffix == s.name) factor = s.factor;
    }
  }
  auto number = decimal(text.substr(0, digits));
  if (!number || factor == 0) throw Error(quoted(text) + " is not a size", 0, kHint);
  if (*number > UINT64_MAX / factor) throw Error(quoted(text) + " is too large", 0, kHint);
  return *number * factor;
}

uint64_t parse_uint(std::string_view text, uint64_t max) {
  auto value = decimal(text);
  if (!value) throw Error(quoted(text) + " is not a non-negative integer");
  if (*value > max) {
    throw Error(quoted(text) + " is too large", 0, "at most " + std::to_string(max));
  }
  return *value;
}

Ipv4Address parse_ipv4(std::string_view text) {
  Ipv4Address addr;
  std::string_view rest = text;
  for (size_t i = 0; i < 4; ++i) {
    size_t dot = rest.find('.');
    std::string_view part = i < 3 ? rest.substr(0, dot) : rest;
    auto value = decimal(part);
    // A leading zero reads as octal to inet_aton(3); refuse it rather than guess.
    bool ok = value && *value <= 255 && (part.size() == 1 || part[0] != '0') &&
              (i == 3 || dot != std::string_view::npos);
    if (!ok) {
      throw Error(quoted(text) + " is not an IPv4 address", 0, "use a dotted quad like 10.88.0.2");
    }
    addr.bytes[i] = static_cast<uint8_t>(*value);
    if (i < 3) rest = rest.substr(dot + 1);
  }
  return addr;
}

Ipv4Cidr parse_ipv4_cidr(std::string_view text) {
  static constexpr const char* kHint = "use address/prefix like 10.88.0.2/24";
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    throw Error(quoted(text) + " has no prefix length", 0, kHint);
  }
  Ipv4Cidr cidr;
  try {
    cidr.address = parse_ipv4(text.substr(0, slash));
  } catch (const Error&) {
    throw Error(quoted(text) + " is not an IPv4 address/prefix", 0, kHint);
  }
  auto prefix = decimal(text.substr(slash + 1));
  if (!prefix || *prefix > 32 || text.size() - slash - 1 > 2) {
    throw Error(quoted(text) + " has a bad prefix length", 0, "use 0 to 32, e.g. /24");
  }
  cidr.prefix = static_cast<uint8_t>(*prefix);
  if (is_network_or_broadcast(cidr, cidr.address)) {
    throw Error(quoted(text) + " is the network or broadcast address of its subnet", 0,
                "pick a host address inside the subnet");
  }
  return cidr;
}

bool cidr_contains(const Ipv4Cidr& net, const Ipv4Address& addr) {
  uint32_t mask = prefix_mask(net.prefix);
  return (to_u32(net.address) & mask) == (to_u32(addr) & mask);
}

bool is_network_or_broadcast(const Ipv4Cidr& net, const Ipv4Address& addr) {
  // /31 (RFC 3021) and /32 have no network or broadcast address.
  if (net.prefix >= 31 || !cidr_contains(net, addr)) return false;
  uint32_t host = to_u32(addr) & ~prefix_mask(net.prefix);
  return host == 0 || host == ~prefix_mask(net.prefix);
}

MacAddress parse_mac(std::string_view text) {
  static constexpr const char* kHint = "use six hex pairs like 02:00:0a:58:00:02";
  MacAddress mac;
  if (text.size() != 17) throw Error(quoted(text) + " is not a MAC address", 0, kHint);
  for (size_t i = 0; i < 6; ++i) {
    int hi = hex_digit(text[i * 3]);
    int lo = hex_digit(text[i * 3 + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != ':')) {
      throw Error(quoted(text) + " is not a MAC address", 0, kHint);
    }
    mac.bytes[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  if (mac.bytes[0] & 1) {
    throw Error(quoted(text) + " is a multicast MAC address", 0,
                "the first byte must be even, e.g. 02:...");
  }
  if (mac == MacAddress{}) throw Error(quoted(text) + " is the all-zero MAC address", 0, kHint);
  return mac;
}

MacAddress mac_from_ipv4(const Ipv4Address& addr) {
  return MacAddress{{0x02, 0x00, addr.bytes[0], addr.bytes[1], addr.bytes[2], addr.bytes[3]}};
}

std::string normalize_absolute_path(std::string_view text) {
  if (text.empty() || text[0] != '/') {
    throw Error(quoted(text) + " is not an absolute path", 0, "start it with /");
  }
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('/', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view part = text.substr(pos, end - pos);
    pos = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      throw Error(quoted(text) + " contains '..'", 0, "write the path without '..'");
    }
    out += '/';
    out += part;
  }
  return out.empty() ? "/" : out;
}

void check_container_id(std::string_view id) {
  bool ok = !id.empty() && id.size() <= 64 && is_alnum(id[0]);
  for (char c : id) ok = ok && (is_alnum(c) || c == '_' || c == '.' || c == '-');
  if (!ok) {
    throw Error(quoted(id) + " is not a valid container id", 0,
                "use 1-64 of A-Z a-z 0-9 _ . -, starting with a letter or digit");
  }
}

void check_hostname(std::string_view name) {
  static constexpr const char* kHint =
      "use at most 64 bytes of dot-separated labels of A-Z a-z 0-9 -, no label starting or "
      "ending with -";
  bool ok = !name.empty() && name.size() <= 64;
  size_t pos = 0;
  while (ok && pos <= name.size()) {
    size_t end = name.find('.', pos);
    if (end == std::string_view::npos) end = name.size();
    std::string_view label = name.substr(pos, end - pos);
    ok = !label.empty() && label.size() <= 63 && label.front() != '-' && label.back() != '-';
    for (char c : label) ok = ok && (is_alnum(c) || c == '-');
    pos = end + 1;
  }
  if (!ok) throw Error(quoted(name) + " is not a valid hostname", 0, kHint);
}

void check_interface_name(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 15 && name != "." && name != "..";
  for (char c : name) {
    ok = ok && c > ' ' && c != '/' && c != ':' && c != 0x7f && static_cast<unsigned char>(c) < 0x80;
  }
  if (!ok) {
    throw Error(quoted(name) + " is not a valid interface name", 0,
                "use 1-15 characters without '/', ':' or spaces, e.g. eth0");
  }
  if (name == "lo") {
    throw Error("'lo' is reserved", 0, "the loopback interface is always configured; remove it");
  }
}

Namespace parse_namespace(std::string_view name) {
  for (Namespace ns : {Namespace::pid, Namespace::mount, Namespace::net, Namespace::uts,
                       Namespace::ipc, Namespace::time, Namespace::user, Namespace::cgroup}) {
    if (name == namespace_name(ns)) return ns;
  }
  throw Error(quoted(name) + " is not a namespace", 0,
              "use pid, mount, net, uts, ipc, time, user, cgroup");
}

int rlimit_resource(std::string_view name) {
  for (const auto& [n, resource] : kRlimits) {
    if (n == name) return resource;
  }
  throw Error(quoted(name) + " is not an rlimit", 0, "use " + rlimit_names());
}

std::string rlimit_names() {
  std::string out;
  for (const auto& entry : kRlimits) {
    if (!out.empty()) out += ", ";
    out += entry.first;
  }
  return out;
}

}  // namespace ckpt::config
