// The pure helpers of the kinds reopened by path (files/path_kind.h): which flags a description
// is opened again with, and the container path of an fd's link.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "runtime/files/file_kinds.h"
#include "runtime/files/path_kind.h"

namespace ckpt::files {
namespace {

TEST(FilesReopen, FlagsDropWhatOpenConsumedAndKeepStatusFlags) {
  int dumped = O_WRONLY | O_APPEND | O_NONBLOCK | O_CREAT | O_TRUNC | O_EXCL | O_NOCTTY | O_CLOEXEC;
  int flags = reopen_flags(dumped, false);
  EXPECT_EQ(flags & O_ACCMODE, O_WRONLY);
  EXPECT_NE(flags & O_APPEND, 0);
  EXPECT_NE(flags & O_NONBLOCK, 0);
  EXPECT_EQ(flags & (O_CREAT | O_TRUNC | O_EXCL | O_NOCTTY), 0);
  EXPECT_NE(flags & O_CLOEXEC, 0) << "the restorer's own copy is always close-on-exec";
}

TEST(FilesReopen, TmpfileAndDirectoryBitsOnlyWhereTheyBelong) {
  // A file made with O_TMPFILE keeps __O_TMPFILE | O_DIRECTORY in f_flags; reopening it (as a
  // recreated ghost) must ask for neither.
  int flags = reopen_flags(O_RDWR | O_TMPFILE, false);
  EXPECT_EQ(flags & O_DIRECTORY, 0);
  EXPECT_EQ(flags & (O_TMPFILE & ~O_DIRECTORY), 0);
  EXPECT_EQ(flags & O_ACCMODE, O_RDWR);
  EXPECT_NE(reopen_flags(O_RDONLY | O_DIRECTORY, true) & O_DIRECTORY, 0);
  EXPECT_NE(reopen_flags(O_PATH, true) & O_PATH, 0);
}

TEST(FilesReopen, ContainerPathOfALink) {
  checkpoint::FdFacts f;
  f.link = "/srv/rootfs/data/x.log";
  std::string path;
  EXPECT_FALSE(container_path_of(f, "/srv/rootfs", path).has_value());
  EXPECT_EQ(path, "/data/x.log");
  f.link = "/srv/rootfs/tmp/gone (deleted)";
  EXPECT_FALSE(container_path_of(f, "/srv/rootfs", path).has_value());
  EXPECT_EQ(path, "/tmp/gone");
  f.link = "/etc/hosts";
  auto refused = container_path_of(f, "/srv/rootfs", path);
  ASSERT_TRUE(refused.has_value());
  EXPECT_NE(refused->refusal.find("outside the container's root /srv/rootfs"), std::string::npos);
  f.link = "pipe:[5]";
  ASSERT_TRUE(container_path_of(f, "/", path).has_value());
}

TEST(FilesReopen, FlagsText) {
  EXPECT_EQ(flags_text(O_RDONLY), "O_RDONLY");
  EXPECT_EQ(flags_text(O_RDWR | O_NONBLOCK | 0100000), "O_RDWR|O_NONBLOCK");
  EXPECT_EQ(flags_text(O_WRONLY | O_SYNC), "O_WRONLY|O_SYNC");
  EXPECT_EQ(flags_text(O_WRONLY | O_DSYNC), "O_WRONLY|O_DSYNC");
}

}  // namespace
}  // namespace ckpt::files
