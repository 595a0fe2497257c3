// set_hostname in a new UTS namespace, and join_namespaces into a running child.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/error.h"
#include "harness.h"
#include "ns/namespaces.h"
#include "ns/rootfs.h"
#include "ns_child.h"

namespace ckpt::test {
namespace {

std::string host_hostname() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

std::string ns_inode(pid_t pid, const char* ns) {
  struct stat st {};
  std::string path = "/proc/" + (pid ? std::to_string(pid) : std::string("self")) + "/ns/" + ns;
  return stat(path.c_str(), &st) == 0 ? std::to_string(st.st_ino) : "?";
}

TEST(NsHostname, SetInsideLeavesHostUnchanged) {
  CKPT_REQUIRE_ROOT();
  std::string before = host_hostname();
  std::string name = unique_name("ckpt-host");
  NsChild child(CLONE_NEWUTS, [&](int fd, int) {
    try {
      ns::set_hostname(name);
    } catch (const Error& e) {
      report(fd, "error", e.what());
      return 1;
    }
    utsname u{};
    uname(&u);
    report(fd, "nodename", u.nodename);
    return 0;
  });
  ASSERT_GT(child.pid(), 0) << "clone3: " << strerror(errno);
  auto r = child.read_report();
  EXPECT_EQ(child.wait(), 0);
  EXPECT_EQ(r.count("error"), 0u) << r["error"];
  EXPECT_EQ(r["nodename"], name);
  EXPECT_EQ(host_hostname(), before);
}

TEST(NsHostname, TooLongIsOneClearError) {
  try {
    ns::set_hostname(std::string(65, 'h'));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("longer than 64"), std::string::npos) << e.what();
  }
}

TEST(NsJoin, JoinsUtsAndNetOfARunningChild) {
  CKPT_REQUIRE_ROOT();
  std::string name = unique_name("ckpt-join");
  NsChild container(CLONE_NEWUTS | CLONE_NEWNET, [&](int fd, int go) {
    ns::set_hostname(name);
    report(fd, "ready", "1");
    wait_go(go);  // stays alive until the test ends (the owner kills it)
    return 0;
  });
  ASSERT_GT(container.pid(), 0) << "clone3: " << strerror(errno);
  ASSERT_EQ(container.read_report("ready")["ready"], "1");

  config::ContainerSpec spec;
  spec.namespaces = {config::Namespace::uts, config::Namespace::net, config::Namespace::ipc};
  pid_t target = container.pid();
  NsChild joiner(0, [&](int fd, int) {
    try {
      ns::join_namespaces(target, spec);
    } catch (const Error& e) {
      report(fd, "error", e.what());
      return 1;
    }
    report(fd, "hostname", host_hostname());
    report(fd, "net", ns_inode(0, "net"));
    return 0;
  });
  ASSERT_GT(joiner.pid(), 0) << "clone3: " << strerror(errno);
  auto r = joiner.read_report();
  EXPECT_EQ(joiner.wait(), 0);
  EXPECT_EQ(r.count("error"), 0u) << r["error"];
  EXPECT_EQ(r["hostname"], name);
  EXPECT_EQ(r["net"], ns_inode(target, "net"));
  EXPECT_NE(r["net"], ns_inode(0, "net"));
}

TEST(NsJoin, GoneProcessIsOneClearError) {
  CKPT_REQUIRE_ROOT();
  NsChild gone(0, [](int, int) { return 0; });
  ASSERT_GT(gone.pid(), 0);
  pid_t pid = gone.pid();
  gone.wait();
  config::ContainerSpec spec;
  spec.namespaces = {config::Namespace::uts};  // harmless even if the pid were reused
  try {
    ns::join_namespaces(pid, spec);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("pid " + std::to_string(pid)), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace ckpt::test
