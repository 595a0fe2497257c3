// check_user_namespace (runtime/restore/restore_context.h) against a real user namespace: the
// restore goes on only when the container it created has the dumped maps and setgroups mode.
#include <gtest/gtest.h>
#include <unistd.h>

#include "common/error.h"
#include "harness.h"
#include "ns/namespaces.h"
#include "ns_child.h"
#include "runtime/restore/restore_context.h"

namespace ckpt::test {
namespace {

std::string error_of(pid_t pid, const std::optional<model::UserNamespace>& dumped) {
  try {
    restore::check_user_namespace(pid, dumped);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(RestoreUsernsCheck, OnlyTheDumpedMapsAndSetgroupsModePass) {
  CKPT_REQUIRE_ROOT();
  config::ContainerSpec spec;
  spec.namespaces = {config::Namespace::user};
  spec.uid_mappings = {{0, 100000, 1000}, {1000, 300000, 5}};
  spec.gid_mappings = {{0, 200000, 65536}};
  NsChild child(CLONE_NEWUSER, [](int, int go) {
    wait_go(go);
    return 0;
  });
  ASSERT_GT(child.pid(), 0) << "clone3: " << strerror(errno);
  ASSERT_NO_THROW(ns::write_id_maps(child.pid(), spec));  // setgroups deny: no additional_gids

  model::UserNamespace dumped{{{0, 100000, 1000}, {1000, 300000, 5}}, {{0, 200000, 65536}}, false};
  EXPECT_EQ(error_of(child.pid(), dumped), "");

  model::UserNamespace other = dumped;
  other.uid_map[1].outside = 300001;
  std::string err = error_of(child.pid(), other);
  EXPECT_NE(err.find("uid_map (0 100000 1000, 1000 300000 5) differs from the image's "
                     "(0 100000 1000, 1000 300001 5)"),
            std::string::npos)
      << err;
  other = dumped;
  other.gid_map[0].count = 65535;
  EXPECT_NE(error_of(child.pid(), other).find("gid_map"), std::string::npos);
  other = dumped;
  other.setgroups_allowed = true;
  err = error_of(child.pid(), other);
  EXPECT_NE(err.find("setgroups is deny, the image's allow"), std::string::npos) << err;
  err = error_of(child.pid(), std::nullopt);
  EXPECT_NE(err.find("dumped without a user namespace"), std::string::npos) << err;

  // Our own namespace: right for an image without one, wrong for one with.
  EXPECT_EQ(error_of(getpid(), std::nullopt), "");
  err = error_of(getpid(), dumped);
  EXPECT_NE(err.find("the restored container has none"), std::string::npos) << err;
  child.go();
  EXPECT_EQ(child.wait(), 0);
}

}  // namespace
}  // namespace ckpt::test
