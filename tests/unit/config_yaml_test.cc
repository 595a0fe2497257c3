#include <gtest/gtest.h>
#include <sys/resource.h>

#include "common/error.h"
#include "common/file_util.h"
#include "config/spec_yaml.h"

namespace ckpt::config {
namespace {

const std::string kData = CKPT_TEST_DATA_DIR;
const std::string kExamples = kData + "/../../examples";

TEST(ConfigYaml, FullSpecReadsEveryKey) {
  ContainerSpec s = load_spec_yaml(kData + "/spec/full.yaml");
  EXPECT_EQ(s.name, "web1");
  EXPECT_EQ(s.source_path, kData + "/spec/full.yaml");
  EXPECT_EQ(s.process.args,
            (std::vector<std::string>{"/usr/bin/python3", "-m", "http.server", "8000"}));
  EXPECT_EQ(s.process.env,
            (std::vector<std::string>{"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"}));
  EXPECT_EQ(s.process.cwd, "/srv");  // normalized
  EXPECT_EQ(s.process.user.uid, 1000u);
  EXPECT_EQ(s.process.user.gid, 1000u);
  EXPECT_EQ(s.process.user.additional_gids, (std::vector<uint32_t>{27, 100}));
  EXPECT_TRUE(s.process.no_new_privileges);
  EXPECT_EQ(s.rootfs.path, "/var/lib/web1/rootfs");
  EXPECT_FALSE(s.rootfs.readonly);
  EXPECT_EQ(s.hostname, "web1.example");
  EXPECT_EQ(s.namespaces.size(), 8u);
  EXPECT_TRUE(s.has(Namespace::user));
  EXPECT_TRUE(s.has(Namespace::cgroup));
  ASSERT_EQ(s.uid_mappings.size(), 1u);
  EXPECT_EQ(s.uid_mappings[0].host_id, 100000u);
  ASSERT_EQ(s.gid_mappings.size(), 1u);
  EXPECT_EQ(s.gid_mappings[0].host_id, 200000u);
  EXPECT_EQ(s.gid_mappings[0].size, 65536u);
  ASSERT_EQ(s.mounts.size(), 2u);
  EXPECT_EQ(s.mounts[0].type, "bind");
  EXPECT_EQ(s.mounts[0].source, "/srv/data");
  EXPECT_EQ(s.mounts[0].destination, "/data");
  EXPECT_EQ(s.mounts[0].options, (std::vector<std::string>{"rw", "rbind"}));
  EXPECT_EQ(s.mounts[1].type, "tmpfs");
  EXPECT_EQ(s.mounts[1].source, "");
  EXPECT_EQ(s.mounts[1].options, (std::vector<std::string>{"nosuid", "size=64m"}));
  ASSERT_EQ(s.network.interfaces.size(), 2u);
  const Interface& eth0 = s.network.interfaces[0];
  EXPECT_EQ(eth0.name, "eth0");
  EXPECT_EQ(eth0.address.str(), "10.88.0.2/24");
  ASSERT_TRUE(eth0.gateway);
  EXPECT_EQ(eth0.gateway->str(), "10.88.0.1");
  ASSERT_TRUE(eth0.mac);
  EXPECT_EQ(eth0.mac->str(), "02:00:0a:58:00:99");
  const Interface& eth1 = s.network.interfaces[1];
  EXPECT_FALSE(eth1.gateway);
  ASSERT_TRUE(eth1.mac);
  EXPECT_EQ(eth1.mac->str(), "02:00:c0:a8:07:05");  // derived from 192.168.7.5
  EXPECT_EQ(s.resources.memory_bytes, 256u * 1024 * 1024);
  EXPECT_EQ(s.resources.pids, 512u);
  EXPECT_EQ(s.resources.cpus, 1.5);
  ASSERT_EQ(s.rlimits.size(), 2u);
  EXPECT_EQ(s.rlimits[0].name, "nofile");
  EXPECT_EQ(s.rlimits[0].resource, RLIMIT_NOFILE);
  EXPECT_EQ(s.rlimits[0].soft, 1024u);
  EXPECT_EQ(s.rlimits[0].hard, 1024u);
  EXPECT_EQ(s.rlimits[1].name, "core");
  EXPECT_EQ(s.rlimits[1].resource, RLIMIT_CORE);
  EXPECT_EQ(s.rlimits[1].soft, 0u);
  EXPECT_EQ(s.rlimits[1].hard, RLIM_INFINITY);
}

TEST(ConfigYaml, DefaultsFillEverythingButArgs) {
  ContainerSpec s = parse_spec_yaml("process: {args: [/bin/true]}\n", "/etc/specs/job-7.yaml");
  EXPECT_EQ(s.name, "job-7");  // the file name without extension
  EXPECT_EQ(s.hostname, "job-7");
  EXPECT_EQ(s.process.env,
            (std::vector<std::string>{
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}));
  EXPECT_EQ(s.process.cwd, "/");
  EXPECT_EQ(s.process.user.uid, 0u);
  EXPECT_FALSE(s.process.no_new_privileges);
  EXPECT_EQ(s.rootfs.path, "/");
  EXPECT_TRUE(s.rootfs.readonly);
  EXPECT_EQ(s.namespaces,
            (std::vector<Namespace>{Namespace::pid, Namespace::mount, Namespace::net,
                                    Namespace::uts, Namespace::ipc, Namespace::time}));
  EXPECT_TRUE(s.uid_mappings.empty());
  EXPECT_TRUE(s.mounts.empty());
  EXPECT_TRUE(s.network.interfaces.empty());
  EXPECT_FALSE(s.resources.memory_bytes);
  EXPECT_FALSE(s.resources.pids);
  EXPECT_FALSE(s.resources.cpus);
  EXPECT_TRUE(s.rlimits.empty());
}

TEST(ConfigYaml, UserNamespaceGetsDefaultMappings) {
  ContainerSpec s =
      parse_spec_yaml("process: {args: [/bin/true]}\nnamespaces: [pid, mount, user]\n", "u.yaml");
  ASSERT_EQ(s.uid_mappings.size(), 1u);
  EXPECT_EQ(s.uid_mappings[0].container_id, 0u);
  EXPECT_EQ(s.uid_mappings[0].host_id, 100000u);
  EXPECT_EQ(s.uid_mappings[0].size, 65536u);
  ASSERT_EQ(s.gid_mappings.size(), 1u);
  EXPECT_EQ(s.gid_mappings[0].host_id, 100000u);
}

TEST(ConfigYaml, DefaultSpecIsTheCounterExample) {
  ContainerSpec s = parse_spec_yaml(default_spec_yaml(), "counter.yaml");
  EXPECT_EQ(s.name, "counter");
  ASSERT_EQ(s.process.args.size(), 3u);
  EXPECT_EQ(s.process.args[0], "/bin/sh");
  EXPECT_EQ(s.process.args[2], "i=0; while :; do echo \"counter $i\"; i=$((i+1)); sleep 1; done");
  EXPECT_EQ(s.rootfs.path, "/");
  EXPECT_TRUE(s.rootfs.readonly);
  EXPECT_EQ(read_file(kExamples + "/counter.yaml"), default_spec_yaml());
}

TEST(ConfigYaml, WebExampleIsValid) {
  ContainerSpec s = load_spec_yaml(kExamples + "/web.yaml");
  EXPECT_EQ(s.name, "web");
  ASSERT_EQ(s.network.interfaces.size(), 1u);
  EXPECT_EQ(s.network.interfaces[0].mac->str(), "02:00:0a:58:00:02");
  EXPECT_EQ(s.resources.memory_bytes, 256u << 20);
  EXPECT_EQ(s.resources.pids, 512u);
}

TEST(ConfigYaml, SizesAcceptBinaryAndDecimalSuffixes) {
  auto memory = [](const std::string& v) {
    return parse_spec_yaml("process: {args: [x]}\nresources: {memory: " + v + "}\n", "m.yaml")
        .resources.memory_bytes.value();
  };
  EXPECT_EQ(memory("4096"), 4096u);
  EXPECT_EQ(memory("1Ki"), 1024u);
  EXPECT_EQ(memory("\"2Gi\""), 2ull << 30);
  EXPECT_EQ(memory("1T"), 1000000000000ull);
  EXPECT_EQ(memory("3K"), 3000u);
}

}  // namespace
}  // namespace ckpt::config
