// A process sharing its parent's address space (a vfork child before execve) is found, so the
// seize can retry instead of waiting for a parent no interrupt can stop (checkpoint/tree.h).
#include <gtest/gtest.h>

#include <set>
#include <utility>

#include "runtime/checkpoint/tree.h"

namespace ckpt::checkpoint {
namespace {

TreeNode node(pid_t pid, pid_t ppid, pid_t host, bool zombie = false) {
  TreeNode n;
  n.pid = pid;
  n.ppid = ppid;
  n.host_pid = host;
  n.comm = "p" + std::to_string(pid);
  n.zombie = zombie;
  return n;
}

TEST(SharedAddressSpace, VforkChildIsFoundWithItsParent) {
  std::vector<TreeNode> tree = {node(1, 0, 101), node(2, 1, 102), node(3, 2, 103)};
  // Host pids 102 and 103 share one mm: 3 is 2's vfork child.
  auto same = [](pid_t a, pid_t b) { return std::set<pid_t>{a, b} == std::set<pid_t>{102, 103}; };
  auto found = shared_address_space(tree, same);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->child->pid, 3);
  EXPECT_EQ(found->parent->pid, 2);
}

TEST(SharedAddressSpace, SeparateAddressSpacesAndZombiesAreFine) {
  std::vector<TreeNode> tree = {node(1, 0, 101), node(2, 1, 102), node(3, 1, 103, true)};
  std::vector<std::pair<pid_t, pid_t>> asked;
  auto same = [&](pid_t a, pid_t b) {
    asked.emplace_back(a, b);
    return false;
  };
  EXPECT_FALSE(shared_address_space(tree, same));
  // Only live child-parent pairs are compared: never the init with nothing, never a zombie.
  EXPECT_EQ(asked, (std::vector<std::pair<pid_t, pid_t>>{{102, 101}}));
}

}  // namespace
}  // namespace ckpt::checkpoint
