// Every kind of bad spec.yaml gives one line: FILE:LINE:COL: KEY: problem (hint).
#include <gtest/gtest.h>

#include "common/error.h"
#include "config/spec_yaml.h"

namespace ckpt::config {
namespace {

std::string error_of(const std::string& yaml, const std::string& path = "web.yaml") {
  try {
    parse_spec_yaml(yaml, path);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

const std::string kArgs = "process: {args: [/bin/true]}\n";

TEST(ConfigYamlErrors, BadSize) {
  EXPECT_EQ(error_of(kArgs + "resources:\n  memory: 12XB\n"),
            "web.yaml:3:11: resources.memory: '12XB' is not a size (use bytes or a suffix: Ki, "
            "Mi, Gi, Ti, K, M, G, T)");
  EXPECT_EQ(error_of(kArgs + "resources: {memory: 1.5Gi}\n"),
            "web.yaml:2:21: resources.memory: '1.5Gi' is not a size (use bytes or a suffix: Ki, "
            "Mi, Gi, Ti, K, M, G, T)");
  EXPECT_EQ(error_of(kArgs + "resources: {memory: 64mi}\n"),
            "web.yaml:2:21: resources.memory: '64mi' is not a size (use bytes or a suffix: Ki, "
            "Mi, Gi, Ti, K, M, G, T)");
  EXPECT_EQ(error_of(kArgs + "resources: {memory: 99999999999Ti}\n"),
            "web.yaml:2:21: resources.memory: '99999999999Ti' is too large (use bytes or a "
            "suffix: Ki, Mi, Gi, Ti, K, M, G, T)");
}

TEST(ConfigYamlErrors, UnknownKeysAtAnyLevel) {
  EXPECT_EQ(error_of(kArgs + "hostnme: a\n"),
            "web.yaml:2:1: hostnme: unknown key (known keys here: name, process, rootfs, "
            "hostname, namespaces, uid_mappings, gid_mappings, mounts, network, resources, "
            "rlimits)");
  EXPECT_EQ(error_of("process: {args: [a], cwdd: /}\n"),
            "web.yaml:1:22: process.cwdd: unknown key (known keys here: args, env, cwd, user, "
            "no_new_privileges)");
  EXPECT_EQ(error_of(kArgs + "mounts:\n  - {type: tmpfs, destination: /tmp, mode: 1777}\n"),
            "web.yaml:3:38: mounts[0].mode: unknown key (known keys here: type, source, "
            "destination, options)");
  EXPECT_EQ(error_of(kArgs + "rlimits: {files: 10}\n"),
            "web.yaml:2:11: rlimits.files: unknown key (known keys here: as, core, cpu, data, "
            "fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, "
            "sigpending, stack)");
}

TEST(ConfigYamlErrors, DuplicateKey) {
  EXPECT_EQ(error_of(kArgs + "name: a\nname: b\n"), "web.yaml:3:1: name: is given twice");
}

TEST(ConfigYamlErrors, WrongTypes) {
  EXPECT_EQ(error_of("process: {args: /bin/true}\n"),
            "web.yaml:1:17: process.args: expected a list, found a scalar");
  EXPECT_EQ(error_of(kArgs + "resources: {pids: \"512\"}\n"),
            "web.yaml:2:19: resources.pids: expected an integer, found a quoted string");
  EXPECT_EQ(error_of(kArgs + "resources: {pids: -1}\n"),
            "web.yaml:2:19: resources.pids: '-1' is not a non-negative integer");
  EXPECT_EQ(error_of(kArgs + "rootfs: {readonly: yes}\n"),
            "web.yaml:2:20: rootfs.readonly: expected true or false, found 'yes'");
  EXPECT_EQ(error_of(kArgs + "resources: {cpu: lots}\n"),
            "web.yaml:2:18: resources.cpu: expected a number, found 'lots' (e.g. 1.5)");
  EXPECT_EQ(error_of(kArgs + "rootfs: /\n"),
            "web.yaml:2:9: rootfs: expected a map, found a scalar");
  EXPECT_EQ(error_of(kArgs + "hostname: [a]\n"),
            "web.yaml:2:11: hostname: expected a string, found a list");
  EXPECT_EQ(error_of(kArgs + "process: {args: [a]}\n"), "web.yaml:2:1: process: is given twice");
  EXPECT_EQ(error_of("- a\n"), "web.yaml:1:1: expected a map, found a list");
}

TEST(ConfigYamlErrors, MissingOrEmptyArgs) {
  EXPECT_EQ(error_of("name: a\n"),
            "web.yaml:1:1: process: is required (add process: {args: [...]})");
  EXPECT_EQ(error_of(""),
            "web.yaml:1:1: process: is required, and the file is empty (add process: {args: "
            "[...]})");
  EXPECT_EQ(error_of("process:\n  cwd: /\n"),
            "web.yaml:2:3: process.args: is required (give the program and its arguments, e.g. "
            "args: [/bin/sh, -c, ...])");
  EXPECT_EQ(error_of("process: {args: []}\n"),
            "web.yaml:1:17: process.args: must not be empty (give the program first)");
  EXPECT_EQ(error_of("process: {args: [\"\"]}\n"),
            "web.yaml:1:18: process.args[0]: the program must not be empty");
}

TEST(ConfigYamlErrors, BadAddresses) {
  const std::string net = kArgs + "network:\n  interfaces:\n";
  EXPECT_EQ(error_of(net + "    - {name: eth0, address: 10.88.0.300/24}\n"),
            "web.yaml:4:29: network.interfaces[0].address: '10.88.0.300/24' is not an IPv4 "
            "address/prefix (use address/prefix like 10.88.0.2/24)");
  EXPECT_EQ(error_of(net + "    - {name: eth0, address: 10.88.0.2}\n"),
            "web.yaml:4:29: network.interfaces[0].address: '10.88.0.2' has no prefix length "
            "(use address/prefix like 10.88.0.2/24)");
  EXPECT_EQ(error_of(net + "    - {name: eth0, address: 10.88.0.2/33}\n"),
            "web.yaml:4:29: network.interfaces[0].address: '10.88.0.2/33' has a bad prefix "
            "length (use 0 to 32, e.g. /24)");
  EXPECT_EQ(error_of(net + "    - {name: eth0, address: 10.88.0.2/24, gateway: 10.88.1}\n"),
            "web.yaml:4:52: network.interfaces[0].gateway: '10.88.1' is not an IPv4 address (use "
            "a dotted quad like 10.88.0.2)");
  EXPECT_EQ(error_of(net + "    - {name: eth0, address: 10.88.0.2/24, mac: \"02:00:0a:58:00\"}\n"),
            "web.yaml:4:48: network.interfaces[0].mac: '02:00:0a:58:00' is not a MAC address "
            "(use six hex pairs like 02:00:0a:58:00:02)");
  EXPECT_EQ(
      error_of(net + "    - {name: eth0, address: 10.88.0.2/24, mac: \"01:00:0a:58:00:02\"}\n"),
      "web.yaml:4:48: network.interfaces[0].mac: '01:00:0a:58:00:02' is a multicast MAC "
      "address (the first byte must be even, e.g. 02:...)");
  EXPECT_EQ(error_of(net + "    - {name: eth0, address: 10.88.0.0/24}\n"),
            "web.yaml:4:29: network.interfaces[0].address: '10.88.0.0/24' is the network or "
            "broadcast address of its subnet (pick a host address inside the subnet)");
}

TEST(ConfigYamlErrors, GatewayOutsideSubnet) {
  EXPECT_EQ(error_of(kArgs + "network:\n  interfaces:\n"
                             "    - name: eth0\n"
                             "      address: 10.88.0.2/24\n"
                             "      gateway: 10.89.0.1\n"),
            "web.yaml:6:16: network.interfaces[0].gateway: 10.89.0.1 is outside the subnet of "
            "10.88.0.2/24 (use an address inside the interface's subnet)");
}

TEST(ConfigYamlErrors, DuplicateInterfaceNamesAndMountDestinations) {
  EXPECT_EQ(error_of(kArgs + "network:\n  interfaces:\n"
                             "    - {name: eth0, address: 10.88.0.2/24}\n"
                             "    - {name: eth0, address: 10.89.0.2/24}\n"),
            "web.yaml:5:14: network.interfaces[1].name: 'eth0' is also the name of "
            "network.interfaces[0]");
  EXPECT_EQ(error_of(kArgs + "mounts:\n"
                             "  - {type: tmpfs, destination: /data}\n"
                             "  - {type: bind, source: /srv, destination: /data/}\n"),
            "web.yaml:4:45: mounts[1].destination: '/data' is also the destination of mounts[0]");
}

TEST(ConfigYamlErrors, RelativePaths) {
  EXPECT_EQ(error_of(kArgs + "rootfs: {path: rootfs}\n"),
            "web.yaml:2:16: rootfs.path: 'rootfs' is not an absolute path (start it with /)");
  EXPECT_EQ(error_of("process: {args: [a], cwd: srv}\n"),
            "web.yaml:1:27: process.cwd: 'srv' is not an absolute path (start it with /)");
  EXPECT_EQ(
      error_of(kArgs + "mounts:\n  - {type: tmpfs, destination: tmp}\n"),
      "web.yaml:3:32: mounts[0].destination: 'tmp' is not an absolute path (start it with /)");
  EXPECT_EQ(error_of(kArgs + "mounts:\n  - {type: bind, source: data, destination: /data}\n"),
            "web.yaml:3:26: mounts[0].source: 'data' is not an absolute path (start it with /)");
  EXPECT_EQ(error_of(kArgs + "mounts:\n  - {type: bind, source: /d, destination: /a/../etc}\n"),
            "web.yaml:3:43: mounts[0].destination: '/a/../etc' contains '..' (write the path "
            "without '..')");
  EXPECT_EQ(error_of(kArgs + "mounts:\n  - {type: bind, destination: /data}\n"),
            "web.yaml:3:5: mounts[0].source: a bind mount needs a source");
}

TEST(ConfigYamlErrors, BadNamesAndHostnames) {
  EXPECT_EQ(error_of(kArgs + "hostname: web_1\n"),
            "web.yaml:2:11: hostname: 'web_1' is not a valid hostname (use at most 64 bytes of "
            "dot-separated labels of A-Z a-z 0-9 -, no label starting or ending with -)");
  EXPECT_EQ(error_of(kArgs + "name: -web\n"),
            "web.yaml:2:7: name: '-web' is not a valid container id (use 1-64 of A-Z a-z 0-9 _ "
            ". -, starting with a letter or digit)");
  EXPECT_EQ(error_of(kArgs, "/tmp/my spec.yaml"),
            "/tmp/my spec.yaml:1:1: name: 'my spec' is not a valid container id (it defaults to "
            "the file name) (add a name: key)");
  EXPECT_EQ(error_of(kArgs + "name: web_1\n"),
            "web.yaml:2:7: name: 'web_1' is not a valid hostname, and hostname defaults to name "
            "(set hostname: explicitly)");
  EXPECT_EQ(parse_spec_yaml(kArgs + "name: web_1\nhostname: web-1\n", "w.yaml").hostname, "web-1");
}

TEST(ConfigYamlErrors, Namespaces) {
  EXPECT_EQ(error_of(kArgs + "namespaces: [mount, net]\n"),
            "web.yaml:2:13: namespaces: 'pid' is missing (the runtime needs its own pid and "
            "mount namespaces to checkpoint a container)");
  EXPECT_EQ(error_of(kArgs + "namespaces: [pid, net]\n"),
            "web.yaml:2:13: namespaces: 'mount' is missing (the runtime needs its own pid and "
            "mount namespaces to checkpoint a container)");
  EXPECT_EQ(error_of(kArgs + "namespaces: [pid, mount, network]\n"),
            "web.yaml:2:26: namespaces[2]: 'network' is not a namespace (use pid, mount, net, "
            "uts, ipc, time, user, cgroup)");
  EXPECT_EQ(error_of(kArgs + "namespaces: [pid, mount, pid]\n"),
            "web.yaml:2:26: namespaces[2]: 'pid' is listed twice");
  EXPECT_EQ(error_of(kArgs + "namespaces: [pid, mount]\n"
                             "network: {interfaces: [{name: eth0, address: 10.1.1.2/24}]}\n"),
            "web.yaml:3:23: network.interfaces: needs the net namespace (add net to namespaces, "
            "or remove the interfaces)");
}

TEST(ConfigYamlErrors, MappingsWithoutUserNamespace) {
  EXPECT_EQ(error_of(kArgs + "uid_mappings: [{container_id: 0, host_id: 1000, size: 1}]\n"),
            "web.yaml:2:15: uid_mappings: needs the user namespace (add user to namespaces)");
  EXPECT_EQ(error_of(kArgs + "namespaces: [pid, mount, user]\n"
                             "gid_mappings: [{container_id: 0, host_id: 1000, size: 0}]\n"),
            "web.yaml:3:55: gid_mappings[0].size: must be at least 1");
  EXPECT_EQ(error_of("process: {args: [a], user: {uid: 70000}}\n"
                     "namespaces: [pid, mount, user]\n"),
            "web.yaml:1:34: process.user.uid: 70000 is not mapped by uid_mappings");
}

TEST(ConfigYamlErrors, Rlimits) {
  EXPECT_EQ(error_of(kArgs + "rlimits:\n  nofile: {soft: 4096, hard: 1024}\n"),
            "web.yaml:3:11: rlimits.nofile: soft limit 4096 is above hard limit 1024 (make soft "
            "<= hard)");
  EXPECT_EQ(error_of(kArgs + "rlimits:\n  nofile: {soft: 4096}\n"),
            "web.yaml:3:11: rlimits.nofile.hard: is required");
  EXPECT_EQ(error_of(kArgs + "rlimits:\n  nofile: lots\n"),
            "web.yaml:3:11: rlimits.nofile: 'lots' is not a non-negative integer");
}

TEST(ConfigYamlErrors, SyntaxErrorIsOneLine) {
  EXPECT_EQ(error_of("process: {args: [a, b}\n"),
            "web.yaml:1:22: YAML syntax error: illegal flow end (check indentation, colons and "
            "quotes)");
  EXPECT_EQ(error_of("process:\n  args: [a]\n cwd: /\n"),
            "web.yaml:3:2: YAML syntax error: end of map not found (check indentation, colons "
            "and quotes)");
  EXPECT_EQ(error_of(kArgs + "---\nname: b\n"),
            "web.yaml:3:1: a second YAML document (a spec is one document: remove ---)");
}

TEST(ConfigYamlErrors, MessagesAreOneLine) {
  for (const std::string& bad : {std::string("process: {args: [a, b}\n"),
                                 kArgs + "resources: {memory: 1x}\n", kArgs + "x: 1\n"}) {
    std::string msg = error_of(bad);
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace ckpt::config
