// TreeUnpacker (runtime/restore/tmpfs_unpack.h) on a real directory, without privileges: it
// never follows a symlink it finds in the target, keeps what the runtime put there when the
// archive has the same thing, removes what the archive does not have, links hard links, keeps
// holes, and sets directories' times after their contents.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "common/file_util.h"
#include "image_test_util.h"
#include "memory_stream.h"
#include "runtime/restore/tmpfs_unpack.h"
#include "runtime/task/task_root.h"

namespace ckpt::restore {
namespace {

using image::EntryType;
using image::TreeEntry;

TreeEntry entry(const std::string& path, EntryType type, uint32_t mode) {
  TreeEntry e;
  e.path = path;
  e.type = type;
  e.mode = mode;
  e.uid = ::getuid();
  e.gid = ::getgid();
  e.atime = {1'500'000'000, 111};
  e.mtime = {1'400'000'000, 222'333'444};
  return e;
}

struct Stat {
  struct stat st {};
  explicit Stat(const std::string& path) {
    if (::lstat(path.c_str(), &st) != 0) st.st_ino = 0;
  }
};

class Unpack : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_ / "root";
    outside_ = tmp_ / "outside";
    make_dirs(root_);
    make_dirs(outside_);
  }

  // Writes the archive and unpacks it into root_.
  void unpack(const std::vector<TreeEntry>& entries, const std::string& data) {
    image::image_test::MemoryWriter out;
    image::TreeArchiveWriter w(out);
    size_t at = 0;
    for (const TreeEntry& e : entries) {
      w.add(e);
      if (e.type == EntryType::regular) {
        w.write_data(data.data() + at, e.data_bytes());
        at += e.data_bytes();
      }
    }
    w.finish();
    image::image_test::MemoryReader in(out.bytes);
    image::TreeArchiveReader r(in, "test");
    UniqueFd fd = open_file(root_, O_RDONLY | O_DIRECTORY);
    struct statx stx {};
    ASSERT_EQ(task::stat_entry(fd.get(), "", stx), 0);
    task::IdMap identity({{0, 0, UINT32_MAX}});
    TreeUnpacker u(fd.get(), stx.stx_mnt_id, identity, identity, "/tmp", false);
    while (auto e = r.next()) u.add(*e, r);
    u.finish();
  }

  image::image_test::TempDir tmp_;
  std::string root_, outside_;
};

TEST_F(Unpack, NeverFollowsASymlinkFoundInTheTarget) {
  // The target has "d" -> the outside directory; the archive has a directory "d" with a file.
  ASSERT_EQ(::symlink(outside_.c_str(), (root_ + "/d").c_str()), 0);
  TreeEntry f = entry("d/x", EntryType::regular, 0644);
  f.size = 5;
  f.runs = {{0, 5}};
  unpack({entry("", EntryType::directory, 0755), entry("d", EntryType::directory, 0700), f},
         "hello");
  EXPECT_TRUE(std::filesystem::is_empty(outside_)) << "wrote through the symlink";
  EXPECT_TRUE(S_ISDIR(Stat(root_ + "/d").st.st_mode));
  EXPECT_EQ(read_file(root_ + "/d/x"), "hello");
}

TEST_F(Unpack, KeepsWhatMatchesRemovesWhatTheArchiveLacks) {
  ASSERT_EQ(::symlink("pts/ptmx", (root_ + "/ptmx").c_str()), 0);
  ASSERT_EQ(::symlink("elsewhere", (root_ + "/fd").c_str()), 0);
  make_dirs(root_ + "/stale/deeper");
  write_file_atomic(root_ + "/stale/deeper/file", "x");
  ino_t kept = Stat(root_ + "/ptmx").st.st_ino;

  TreeEntry ptmx = entry("ptmx", EntryType::symlink, 0777);
  ptmx.target = "pts/ptmx";
  TreeEntry fd = entry("fd", EntryType::symlink, 0777);
  fd.target = "/proc/self/fd";
  unpack({entry("", EntryType::directory, 0755), fd, ptmx}, "");

  EXPECT_EQ(Stat(root_ + "/ptmx").st.st_ino, kept) << "an identical entry was replaced";
  EXPECT_EQ(std::filesystem::read_symlink(root_ + "/fd"), "/proc/self/fd");
  EXPECT_FALSE(std::filesystem::exists(root_ + "/stale")) << "not pruned";
}

TEST_F(Unpack, HardLinksHolesModesAndTimes) {
  TreeEntry sparse = entry("d/sparse", EntryType::regular, 04711);
  sparse.size = 8u << 20;
  sparse.runs = {{4u << 20, 4096}};
  TreeEntry link;
  link.path = "again";
  link.type = EntryType::hardlink;
  link.link_to = 2;
  TreeEntry fifo = entry("d/fifo", EntryType::fifo, 0620);
  TreeEntry d = entry("d", EntryType::directory, 03750);
  unpack({entry("", EntryType::directory, 01777), d, sparse, link, fifo}, std::string(4096, 'z'));

  Stat s(root_ + "/d/sparse"), again(root_ + "/again"), dir(root_ + "/d");
  EXPECT_EQ(s.st.st_ino, again.st.st_ino);
  EXPECT_EQ(s.st.st_nlink, 2u);
  EXPECT_EQ(s.st.st_mode & 07777, 04711u);
  EXPECT_EQ(s.st.st_size, 8 << 20);
  EXPECT_LE(s.st.st_blocks, 64) << "the hole was written";
  EXPECT_EQ(s.st.st_mtim.tv_sec, 1'400'000'000);
  EXPECT_EQ(s.st.st_mtim.tv_nsec, 222'333'444);
  EXPECT_TRUE(S_ISFIFO(Stat(root_ + "/d/fifo").st.st_mode));
  EXPECT_EQ(Stat(root_ + "/d/fifo").st.st_mode & 07777, 0620u);
  // Set after the entries inside it were created.
  EXPECT_EQ(dir.st.st_mode & 07777, 03750u);
  EXPECT_EQ(dir.st.st_mtim.tv_sec, 1'400'000'000);
  EXPECT_EQ(dir.st.st_atim.tv_nsec, 111);
  EXPECT_EQ(Stat(root_).st.st_mode & 07777, 01777u);
  EXPECT_EQ(Stat(root_).st.st_mtim.tv_nsec, 222'333'444);
}

TEST_F(Unpack, AnOwnerWithoutAHostIdIsOneLine) {
  UniqueFd fd = open_file(root_, O_RDONLY | O_DIRECTORY);
  task::IdMap none;
  TreeUnpacker u(fd.get(), 0, none, none, "/tmp", false);
  image::image_test::MemoryReader in("");
  image::TreeArchiveReader r(in, "test");
  std::string msg =
      image::image_test::error_of([&] { u.add(entry("", EntryType::directory, 0755), r); });
  EXPECT_NE(msg.find("/tmp: uid"), std::string::npos) << msg;
  EXPECT_NE(msg.find("has no host id"), std::string::npos) << msg;
}

}  // namespace
}  // namespace ckpt::restore
