// Grouping fds into open file descriptions (checkpoint/file_identity.h) with a fake kcmp: the
// groups match the descriptions, kcmp is only asked about fds on the same inode, against one
// representative per description, and O(log n) times per fd.
#include "runtime/checkpoint/file_identity.h"

#include <gtest/gtest.h>

#include <map>
#include <utility>

namespace ckpt::checkpoint {
namespace {

// Knows which description each (pid, fd) is (its number stands for the kernel's file pointer,
// which kcmp orders by), and records what it was asked.
class FakeIdentity final : public FileIdentity {
 public:
  std::map<std::pair<pid_t, int>, int> description;
  std::vector<std::pair<FdRef, FdRef>> asked;

  int compare(const FdRef& a, const FdRef& b) override {
    asked.push_back({a, b});
    int x = description.at({a.host_pid, a.fd}), y = description.at({b.host_pid, b.fd});
    return x < y ? -1 : x > y ? 1 : 0;
  }
};

FdRef fd(pid_t pid, int n, ino_t ino, dev_t dev = 1) {
  return FdRef{pid, n, dev, ino};
}

TEST(FileIdentity, DupForkAndSeparateOpensOfOneFile) {
  // pid 10: fd 3 opened, fd 4 = dup(3), fd 5 = a second open() of the same file;
  // pid 11 (forked): fd 3 inherited, fd 7 received over SCM_RIGHTS from pid 10's fd 5.
  FakeIdentity kernel;
  kernel.description = {{{10, 3}, 1}, {{10, 4}, 1}, {{10, 5}, 2}, {{11, 3}, 1}, {{11, 7}, 2}};
  std::vector<FdRef> fds = {fd(10, 3, 50), fd(10, 4, 50), fd(10, 5, 50), fd(11, 3, 50),
                            fd(11, 7, 50)};
  std::vector<size_t> g = group_descriptions(fds, kernel);
  EXPECT_EQ(g, (std::vector<size_t>{0, 0, 1, 0, 1}));
}

TEST(FileIdentity, KcmpOnlyWithinAnInodeAndAgainstRepresentatives) {
  FakeIdentity kernel;
  std::vector<FdRef> fds;
  // Four files, each open once by each of 5 processes (fork): 4 descriptions of 5 holders.
  for (pid_t pid = 1; pid <= 5; ++pid) {
    for (int n = 0; n < 4; ++n) {
      kernel.description[{pid, n}] = n;
      fds.push_back(fd(pid, n, 100 + n));
    }
  }
  std::vector<size_t> g = group_descriptions(fds, kernel);
  for (size_t i = 0; i < fds.size(); ++i) EXPECT_EQ(g[i], static_cast<size_t>(fds[i].fd));
  for (const auto& [a, b] : kernel.asked) {
    EXPECT_EQ(a.ino, b.ino) << "kcmp across inodes";
    EXPECT_EQ(a.dev, b.dev);
    EXPECT_EQ(a.host_pid, 1) << "compared against something else than the first holder";
  }
  // One comparison per later holder: 4 descriptions x 4 more holders.
  EXPECT_EQ(kernel.asked.size(), 16u);
}

TEST(FileIdentity, ManyDescriptionsOnOneInodeCostLogarithmicComparisons) {
  // 4096 eventfds share the anon_inode inode; each is its own description, opened in an order
  // unrelated to the kernel's, and then each is dup'd once.
  FakeIdentity kernel;
  std::vector<FdRef> fds;
  const int n = 4096;
  for (int i = 0; i < n; ++i) {
    kernel.description[{1, i}] = (i * 2654435761u) % 1000003;  // scrambled kernel order
    kernel.description[{1, n + i}] = kernel.description[{1, i}];
    fds.push_back(fd(1, i, 9));
  }
  for (int i = 0; i < n; ++i) fds.push_back(fd(1, n + i, 9));
  std::vector<size_t> g = group_descriptions(fds, kernel);
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(g[i], static_cast<size_t>(i));
    EXPECT_EQ(g[n + i], static_cast<size_t>(i)) << "the dup of fd " << i;
  }
  // 2n fds, at most log2(n) + 1 = 13 comparisons each.
  EXPECT_LE(kernel.asked.size(), static_cast<size_t>(2 * n * 13));
}

TEST(FileIdentity, SameInodeNumberOnAnotherDeviceIsAnotherFile) {
  FakeIdentity kernel;  // would throw if asked: no pair shares (dev, ino)
  std::vector<FdRef> fds = {fd(1, 3, 7, 1), fd(1, 4, 7, 2)};
  EXPECT_EQ(group_descriptions(fds, kernel), (std::vector<size_t>{0, 1}));
  EXPECT_TRUE(kernel.asked.empty());
}

TEST(FileIdentity, NumbersFollowFirstAppearance) {
  FakeIdentity kernel;
  kernel.description = {{{1, 3}, 9}, {{1, 4}, 8}, {{2, 3}, 8}, {{2, 4}, 9}};
  std::vector<FdRef> fds = {fd(1, 3, 5), fd(1, 4, 5), fd(2, 3, 5), fd(2, 4, 5)};
  EXPECT_EQ(group_descriptions(fds, kernel), (std::vector<size_t>{0, 1, 1, 0}));
  EXPECT_TRUE(group_descriptions({}, kernel).empty());
}

}  // namespace
}  // namespace ckpt::checkpoint
