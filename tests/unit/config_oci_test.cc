#include <gtest/gtest.h>
#include <sys/resource.h>

#include "common/error.h"
#include "common/file_util.h"
#include "config/oci.h"

namespace ckpt::config {
namespace {

using nlohmann::json;

const std::string kOci = std::string(CKPT_TEST_DATA_DIR) + "/oci";

json basic_config() {
  return json::parse(read_file(kOci + "/basic/config.json"));
}

std::string error_of(const json& config, const std::string& id = "oci-test") {
  try {
    parse_oci_config(config, "/bundles/b1", id, "config.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ConfigOci, ReadsTheBundle) {
  ContainerSpec s = load_oci_bundle(kOci + "/basic/", "oci-test");
  EXPECT_EQ(s.name, "oci-test");
  EXPECT_EQ(s.source_path, kOci + "/basic/config.json");
  EXPECT_EQ(s.process.args, (std::vector<std::string>{"sh", "-c", "echo hello"}));
  EXPECT_EQ(s.process.env, (std::vector<std::string>{"PATH=/usr/bin:/bin", "TERM=xterm"}));
  EXPECT_EQ(s.process.cwd, "/home/user");
  EXPECT_EQ(s.process.user.uid, 1000u);
  EXPECT_EQ(s.process.user.gid, 1000u);
  EXPECT_EQ(s.process.user.additional_gids, (std::vector<uint32_t>{5}));
  EXPECT_TRUE(s.process.no_new_privileges);
  ASSERT_EQ(s.rlimits.size(), 1u);
  EXPECT_EQ(s.rlimits[0].name, "nofile");
  EXPECT_EQ(s.rlimits[0].resource, RLIMIT_NOFILE);
  EXPECT_EQ(s.rlimits[0].soft, 1024u);
  EXPECT_EQ(s.rlimits[0].hard, 4096u);
  EXPECT_EQ(s.rootfs.path, kOci + "/basic/rootfs");  // relative to the bundle
  EXPECT_TRUE(s.rootfs.readonly);
  EXPECT_EQ(s.hostname, "oci-test");
  // The standard /proc, /dev, /sys... entries are the runtime's own: only three remain.
  ASSERT_EQ(s.mounts.size(), 3u);
  EXPECT_EQ(s.mounts[0].type, "bind");
  EXPECT_EQ(s.mounts[0].source, kOci + "/basic/data");
  EXPECT_EQ(s.mounts[0].destination, "/data");
  EXPECT_EQ(s.mounts[0].options, (std::vector<std::string>{"rbind", "ro"}));
  EXPECT_EQ(s.mounts[1].type, "bind");
  EXPECT_EQ(s.mounts[1].source, "/srv/hosts");
  EXPECT_EQ(s.mounts[2].type, "tmpfs");
  EXPECT_EQ(s.mounts[2].source, "");
  EXPECT_EQ(s.mounts[2].options, (std::vector<std::string>{"nosuid", "size=64m"}));
  EXPECT_EQ(s.namespaces,
            (std::vector<Namespace>{Namespace::pid, Namespace::net, Namespace::ipc, Namespace::uts,
                                    Namespace::mount, Namespace::user, Namespace::cgroup}));
  ASSERT_EQ(s.uid_mappings.size(), 1u);
  EXPECT_EQ(s.uid_mappings[0].host_id, 100000u);
  EXPECT_EQ(s.gid_mappings[0].size, 65536u);
  EXPECT_EQ(s.resources.memory_bytes, 268435456u);
  EXPECT_EQ(s.resources.pids, 512u);
  EXPECT_EQ(s.resources.cpus, 1.5);
  EXPECT_TRUE(s.network.interfaces.empty());
}

TEST(ConfigOci, UnlimitedResourcesAreUnset) {
  json c = basic_config();
  c["linux"]["resources"]["memory"]["limit"] = -1;
  c["linux"]["resources"]["pids"]["limit"] = 0;
  c["linux"]["resources"]["cpu"] = {{"quota", -1}};
  c["process"].erase("env");
  ContainerSpec s = parse_oci_config(c, "/bundles/b1", "b1", "config.json");
  EXPECT_FALSE(s.resources.memory_bytes);
  EXPECT_FALSE(s.resources.pids);
  EXPECT_FALSE(s.resources.cpus);
  EXPECT_TRUE(s.process.env.empty());  // OCI: no env is an empty environment
  EXPECT_EQ(s.rootfs.path, "/bundles/b1/rootfs");
}

TEST(ConfigOci, RefusesHooks) {
  try {
    load_oci_bundle(kOci + "/hooks", "h1");
    FAIL() << "hooks accepted";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              kOci +
                  "/hooks/config.json: /hooks/prestart: hooks are not supported (remove the "
                  "hooks)");
  }
}

TEST(ConfigOci, ErrorsNameTheJsonPointer) {
  json c = basic_config();
  c["process"]["args"] = json::array();
  EXPECT_EQ(error_of(c), "config.json: /process/args: must not be empty (give the program first)");

  c = basic_config();
  c["linux"]["namespaces"][1]["path"] = "/proc/1/ns/net";
  EXPECT_EQ(error_of(c),
            "config.json: /linux/namespaces/1/path: joining an existing namespace is not "
            "supported yet (remove path to create a new namespace)");

  c = basic_config();
  c["linux"]["namespaces"][1]["type"] = "net";
  EXPECT_EQ(error_of(c),
            "config.json: /linux/namespaces/1/type: 'net' is not an OCI namespace type (use "
            "network)");

  c = basic_config();
  c["linux"]["namespaces"].erase(4);  // mount
  EXPECT_EQ(error_of(c),
            "config.json: /linux/namespaces: 'mount' is missing (the runtime needs its own pid "
            "and mount namespaces to checkpoint a container)");

  c = basic_config();
  c["mounts"][9]["destination"] = "tmp";
  EXPECT_EQ(error_of(c),
            "config.json: /mounts/9/destination: 'tmp' is not an absolute path (start it with /)");

  c = basic_config();
  c["mounts"][8]["options"] = {"ro", "tmpcopyup"};
  EXPECT_EQ(error_of(c),
            "config.json: /mounts/8/options/1: 'tmpcopyup' is not a known mount option (use ro, "
            "rw, nosuid, nodev, noexec, rbind, noatime, ... or key=value for tmpfs)");

  c = basic_config();
  c["process"]["rlimits"][0]["soft"] = 8192;
  EXPECT_EQ(error_of(c),
            "config.json: /process/rlimits/0: soft limit 8192 is above hard limit 4096 (make "
            "soft <= hard)");

  c = basic_config();
  c["process"]["rlimits"][0]["type"] = "RLIMIT_FILES";
  EXPECT_EQ(error_of(c),
            "config.json: /process/rlimits/0/type: 'files' is not an rlimit (use as, core, cpu, "
            "data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, "
            "sigpending, stack)");

  c = basic_config();
  c["linux"]["uidMappings"][0]["size"] = 0;
  EXPECT_EQ(error_of(c), "config.json: /linux/uidMappings/0/size: must be at least 1");

  c = basic_config();
  c["process"]["user"]["uid"] = 70000;
  EXPECT_EQ(error_of(c), "config.json: /process/user/uid: 70000 is not mapped by uid_mappings");

  c = basic_config();
  c["process"]["user"]["additionalGids"] = {5, 70000};
  EXPECT_EQ(error_of(c),
            "config.json: /process/user/additionalGids/1: 70000 is not mapped by gid_mappings");

  c = basic_config();
  c["linux"]["resources"]["memory"]["limit"] = "1G";
  EXPECT_EQ(error_of(c),
            "config.json: /linux/resources/memory/limit: expected an integer, found a string");

  c = basic_config();
  c["hostname"] = "bad_host";
  EXPECT_EQ(error_of(c),
            "config.json: /hostname: 'bad_host' is not a valid hostname (use at most 64 bytes of "
            "dot-separated labels of A-Z a-z 0-9 -, no label starting or ending with -)");
}

TEST(ConfigOci, RefusesWhatItCannotHonour) {
  json c = basic_config();
  c["process"]["terminal"] = true;
  EXPECT_EQ(error_of(c),
            "config.json: /process/terminal: is not supported by crun-ckpt (run without a "
            "terminal, i.e. without -t)");

  c = basic_config();
  c["process"]["capabilities"] = {{"bounding", {"CAP_KILL"}}};
  EXPECT_EQ(error_of(c),
            "config.json: /process/capabilities: is not supported by crun-ckpt (crun-ckpt cannot "
            "drop capabilities yet: remove the field)");

  c = basic_config();
  c["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"}};
  EXPECT_EQ(error_of(c),
            "config.json: /linux/seccomp: is not supported by crun-ckpt (remove it to run "
            "without a filter)");

  c = basic_config();
  c["linux"]["maskedPaths"] = {"/proc/kcore"};
  EXPECT_EQ(error_of(c),
            "config.json: /linux/maskedPaths: is not supported by crun-ckpt (crun-ckpt cannot "
            "mask paths yet: remove the list)");

  c = basic_config();
  c["linux"]["intelRdt"] = json::object();
  EXPECT_EQ(error_of(c).rfind("config.json: /linux/intelRdt: is not supported by crun-ckpt "
                              "(known keys here: namespaces, ",
                              0),
            0u);

  c = basic_config();
  c["ociVersion"] = "2.0.0";
  EXPECT_EQ(error_of(c), "config.json: /ociVersion: runtime-spec 2.0.0 is not supported (use 1.x)");

  EXPECT_EQ(error_of(basic_config(), "bad id"),
            "container id: 'bad id' is not a valid container id (use 1-64 of A-Z a-z 0-9 _ . -, "
            "starting with a letter or digit)");
}

TEST(ConfigOci, BadJsonIsOneLineWithPosition) {
  try {
    load_oci_bundle(std::string(CKPT_TEST_DATA_DIR) + "/oci/broken", "b1");
    FAIL() << "broken JSON accepted";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              kOci +
                  "/broken/config.json:3:3: invalid JSON: syntax error while parsing object "
                  "key - invalid literal; last read: '\"a\"]},<U+000A>  r'; "
                  "expected string literal");
  }
}

}  // namespace
}  // namespace ckpt::config
