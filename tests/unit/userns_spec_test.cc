// The user namespace a spec creates (runtime/container/user_namespace_spec.h) and the
// checkpoint's refusal of a namespace its spec would not recreate.
#include <gtest/gtest.h>

#include "common/error.h"
#include "runtime/container/user_namespace_spec.h"

namespace ckpt::runtime {
namespace {

config::ContainerSpec userns_spec() {
  config::ContainerSpec spec;
  spec.namespaces.push_back(config::Namespace::user);
  spec.uid_mappings = {{0, 100000, 65536}};
  spec.gid_mappings = {{0, 200000, 1000}, {1000, 300000, 10}};
  return spec;
}

TEST(UsernsSpec, NoUserNamespaceWithoutTheNamespace) {
  EXPECT_EQ(user_namespace_of(config::ContainerSpec{}), std::nullopt);
  EXPECT_NO_THROW(check_spec_recreates_user_namespace(config::ContainerSpec{}, std::nullopt));
}

TEST(UsernsSpec, MapsAndSetgroupsModeFollowTheSpec) {
  config::ContainerSpec spec = userns_spec();
  auto ns = user_namespace_of(spec);
  ASSERT_TRUE(ns);
  EXPECT_EQ(ns->uid_map, (std::vector<model::IdRange>{{0, 100000, 65536}}));
  EXPECT_EQ(ns->gid_map, (std::vector<model::IdRange>{{0, 200000, 1000}, {1000, 300000, 10}}));
  EXPECT_FALSE(ns->setgroups_allowed) << "no additional_gids: the launcher writes deny";
  spec.process.user.additional_gids = {10};
  EXPECT_TRUE(user_namespace_of(spec)->setgroups_allowed);
}

TEST(UsernsSpec, ADumpedNamespaceTheSpecWouldNotRecreateIsRefused) {
  config::ContainerSpec spec = userns_spec();
  model::UserNamespace dumped = *user_namespace_of(spec);
  EXPECT_NO_THROW(check_spec_recreates_user_namespace(spec, dumped));

  auto error_of = [&](const std::optional<model::UserNamespace>& ns,
                      const config::ContainerSpec& s) {
    try {
      check_spec_recreates_user_namespace(s, ns);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  model::UserNamespace other = dumped;
  other.uid_map[0].outside = 100001;
  std::string err = error_of(other, spec);
  EXPECT_NE(err.find("cannot checkpoint"), std::string::npos) << err;
  EXPECT_NE(err.find("uid_map 0 100001 65536"), std::string::npos) << err;
  EXPECT_NE(err.find("uid_map 0 100000 65536"), std::string::npos) << err;

  other = dumped;
  other.setgroups_allowed = true;
  EXPECT_NE(error_of(other, spec).find("setgroups allow"), std::string::npos);
  EXPECT_NE(error_of(std::nullopt, spec).find("(none)"), std::string::npos);
  EXPECT_NE(error_of(dumped, config::ContainerSpec{}).find("creates (none)"), std::string::npos);
}

}  // namespace
}  // namespace ckpt::runtime
