// ContainerSpec: the one validated description of a container, whatever it was read from
// (crun-ckpt's spec.yaml, an OCI bundle's config.json, or the spec carried inside a checkpoint
// image). Everything below this value may assume it is valid: absolute paths, parsed
// addresses, limits in bytes. This library makes no syscalls.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ckpt::config {

enum class Namespace { pid, mount, net, uts, ipc, time, user, cgroup };

struct IdMapping {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;

  bool operator==(const IdMapping&) const = default;
};

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additional_gids;

  bool operator==(const User&) const = default;
};

struct Process {
  std::vector<std::string> args;  // args[0] is the program; never empty once validated
  std::vector<std::string> env = {
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  std::string cwd = "/";
  User user;
  bool no_new_privileges = false;

  bool operator==(const Process&) const = default;
};

struct Rootfs {
  std::string path = "/";  // absolute
  bool readonly = true;

  bool operator==(const Rootfs&) const = default;
};

struct Mount {
  std::string type;                  // "bind", "tmpfs", "proc", "sysfs" or "mqueue"
  std::string source;                // empty for tmpfs
  std::string destination;           // absolute, inside the container
  std::vector<std::string> options;  // "ro", "rw", "nosuid", "size=64m", ...

  bool operator==(const Mount&) const = default;
};

struct Ipv4Address {
  std::array<uint8_t, 4> bytes{};
  std::string str() const;
  bool operator==(const Ipv4Address&) const = default;
};

struct Ipv4Cidr {
  Ipv4Address address;
  uint8_t prefix = 32;
  std::string str() const;  // "10.88.0.2/24"
  bool operator==(const Ipv4Cidr&) const = default;
};

struct MacAddress {
  std::array<uint8_t, 6> bytes{};
  std::string str() const;  // "02:00:0a:58:00:02"
  bool operator==(const MacAddress&) const = default;
};

struct Interface {
  std::string name;  // inside the container, e.g. eth0
  Ipv4Cidr address;
  std::optional<Ipv4Address> gateway;
  std::optional<MacAddress> mac;  // default: derived from the address (02:00:a:b:c:d)

  bool operator==(const Interface&) const = default;
};

struct Network {
  std::vector<Interface> interfaces;  // empty: loopback only

  bool operator==(const Network&) const = default;
};

struct Resources {
  std::optional<uint64_t> memory_bytes;
  std::optional<uint64_t> pids;
  std::optional<double> cpus;  // 1.5 = one and a half CPUs

  bool operator==(const Resources&) const = default;
};

struct Rlimit {
  int resource = 0;  // RLIMIT_*
  std::string name;  // "nofile", as written in the spec
  uint64_t soft = 0;
  uint64_t hard = 0;

  bool operator==(const Rlimit&) const = default;
};

struct ContainerSpec {
  std::string name;
  Process process;
  Rootfs rootfs;
  std::string hostname;  // default: name
  std::vector<Namespace> namespaces = {Namespace::pid, Namespace::mount, Namespace::net,
                                       Namespace::uts, Namespace::ipc,   Namespace::time};
  // Only with Namespace::user. When the user namespace is asked for without mappings, each
  // defaults to {container 0 -> host 100000, size 65536}: the conventional first /etc/subuid
  // range, so container root is never host root.
  std::vector<IdMapping> uid_mappings;
  std::vector<IdMapping> gid_mappings;
  std::vector<Mount> mounts;
  Network network;
  Resources resources;
  std::vector<Rlimit> rlimits;
  std::string source_path;  // the file it was read from, for messages

  bool has(Namespace ns) const;
  bool operator==(const ContainerSpec&) const = default;
};

const char* namespace_name(Namespace ns);

}  // namespace ckpt::config
