// write_id_maps on a child in a new user namespace: the child sees the maps and its ids.
#include <gtest/gtest.h>
#include <unistd.h>

#include "common/error.h"
#include "harness.h"
#include "ns/namespaces.h"
#include "ns_child.h"

namespace ckpt::test {
namespace {

std::string squeeze(const std::string& text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\t') {
      space = !out.empty() && out.back() != ';';
      continue;
    }
    if (c == '\n') {
      space = false;
      out += ';';
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

TEST(NsIdmap, ChildSeesMapsAndRootId) {
  CKPT_REQUIRE_ROOT();
  config::ContainerSpec spec;
  spec.namespaces = {config::Namespace::user};
  // The child's ids are the host's 0: mapped to 0 inside, the rest to a high range.
  spec.uid_mappings = {{0, 0, 1}, {1, 100000, 1000}};
  spec.gid_mappings = {{0, 0, 1}, {1, 200000, 1000}};
  NsChild child(CLONE_NEWUSER, [](int fd, int go) {
    wait_go(go);
    report(fd, "uid", std::to_string(getuid()));
    report(fd, "gid", std::to_string(getgid()));
    report(fd, "uid_map", squeeze(slurp("/proc/self/uid_map")));
    report(fd, "setgroups", squeeze(slurp("/proc/self/setgroups")));
    return 0;
  });
  ASSERT_GT(child.pid(), 0) << "clone3: " << strerror(errno);
  ASSERT_NO_THROW(ns::write_id_maps(child.pid(), spec));
  child.go();
  auto r = child.read_report();
  EXPECT_EQ(child.wait(), 0);
  EXPECT_EQ(r["uid"], "0");
  EXPECT_EQ(r["gid"], "0");
  EXPECT_EQ(r["uid_map"], "0 0 1;1 100000 1000;");
  EXPECT_EQ(r["setgroups"], "deny;");
}

TEST(NsIdmap, UserNamespaceWithoutMappingsIsRefused) {
  config::ContainerSpec spec;
  spec.namespaces = {config::Namespace::user};
  try {
    ns::write_id_maps(getpid(), spec);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("uid_mappings"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ckpt::test
