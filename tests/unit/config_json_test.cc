#include <gtest/gtest.h>

#include "common/error.h"
#include "config/spec_json.h"
#include "config/spec_yaml.h"

namespace ckpt::config {
namespace {

using nlohmann::json;

const std::string kData = CKPT_TEST_DATA_DIR;

std::string error_of(const json& j) {
  try {
    spec_from_json(j);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ConfigJson, FullSpecRoundTripsExactly) {
  ContainerSpec spec = load_spec_yaml(kData + "/spec/full.yaml");
  spec.resources.cpus = 1.0 / 3.0;  // a double that only survives with all its digits
  spec.resources.memory_bytes = UINT64_MAX;
  json j = spec_to_json(spec);
  ContainerSpec back = spec_from_json(json::parse(j.dump()));
  EXPECT_TRUE(back == spec);
  EXPECT_EQ(spec_to_json(back), j);
  EXPECT_EQ(back.resources.cpus, 1.0 / 3.0);
  EXPECT_EQ(back.network.interfaces[1].mac, spec.network.interfaces[1].mac);
  EXPECT_FALSE(back.network.interfaces[1].gateway);
}

TEST(ConfigJson, DefaultSpecRoundTrips) {
  ContainerSpec spec = parse_spec_yaml(default_spec_yaml(), "counter.yaml");
  ContainerSpec back = spec_from_json(spec_to_json(spec));
  EXPECT_TRUE(back == spec);
  EXPECT_FALSE(back.resources.memory_bytes);
  EXPECT_EQ(spec_to_json(spec)["resources"], json::object());
}

TEST(ConfigJson, WritesReadableValues) {
  ContainerSpec spec = load_spec_yaml(kData + "/spec/full.yaml");
  json j = spec_to_json(spec);
  EXPECT_EQ(j["resources"]["memory"], 268435456u);
  EXPECT_EQ(j["network"]["interfaces"][0]["address"], "10.88.0.2/24");
  EXPECT_EQ(j["network"]["interfaces"][1]["mac"], "02:00:c0:a8:07:05");
  EXPECT_EQ(j["namespaces"][2], "net");
  EXPECT_EQ(j["rlimits"][1], (json{{"name", "core"}, {"soft", 0}, {"hard", UINT64_MAX}}));
}

TEST(ConfigJson, ValidatesOnTheWayIn) {
  json good = spec_to_json(load_spec_yaml(kData + "/spec/full.yaml"));
  EXPECT_EQ(error_of(good), "(no error)");

  json j = good;
  j["process"]["args"] = json::array();
  EXPECT_EQ(error_of(j), "process.args: must not be empty (give the program first)");
  j = good;
  j["mounts"][1]["destination"] = "tmp";
  EXPECT_EQ(error_of(j), "mounts[1].destination: 'tmp' is not an absolute path (start it with /)");
  j = good;
  j["resources"]["memory"] = "256Mi";
  EXPECT_EQ(error_of(j), "resources.memory: expected a non-negative integer, found a string");
  j = good;
  j["network"]["interfaces"][0]["gateway"] = "10.99.0.1";
  EXPECT_EQ(error_of(j),
            "network.interfaces[0].gateway: 10.99.0.1 is outside the subnet of 10.88.0.2/24 "
            "(use an address inside the interface's subnet)");
  j = good;
  j["network"]["interfaces"][0]["mac"] = "zz";
  EXPECT_EQ(error_of(j),
            "network.interfaces[0].mac: 'zz' is not a MAC address (use six hex pairs like "
            "02:00:0a:58:00:02)");
  j = good;
  j["process"]["user"]["gid"] = -1;
  EXPECT_EQ(error_of(j),
            "process.user.gid: expected a non-negative integer, found a negative integer");
  j = good;
  j["rootfs"]["extra"] = 1;
  EXPECT_EQ(error_of(j), "rootfs.extra: unknown key (known keys here: path, readonly)");
  j = good;
  j["rlimits"][0]["soft"] = 5000;
  EXPECT_EQ(error_of(j),
            "rlimits.nofile: soft limit 5000 is above hard limit 1024 (make soft <= hard)");
  j = good;
  j.erase("name");
  EXPECT_EQ(error_of(j), "name: is required");
  j = good;
  j["namespaces"] = json::array({"pid", "mount"});
  EXPECT_EQ(error_of(j), "uid_mappings: needs the user namespace (add user to namespaces)");
  EXPECT_EQ(error_of(json::array()), "expected an object, found an array");
}

}  // namespace
}  // namespace ckpt::config
