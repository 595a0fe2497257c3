#include <gtest/gtest.h>
#include <sys/mount.h>

#include "ns/mount_options.h"

namespace ckpt::ns {
namespace {

TEST(NsMountOptions, FlagsAndDataAreSeparated) {
  MountOptions o = parse_mount_options({"nosuid", "nodev", "size=64m", "mode=1777"});
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_NOSUID | MS_NODEV));
  EXPECT_EQ(o.data, "size=64m,mode=1777");
  EXPECT_FALSE(o.recursive);
  EXPECT_EQ(o.propagation, 0u);
}

TEST(NsMountOptions, LaterOptionWins) {
  EXPECT_EQ(parse_mount_options({"ro", "rw"}).flags, 0u);
  EXPECT_EQ(parse_mount_options({"rw", "ro"}).flags, static_cast<unsigned long>(MS_RDONLY));
  EXPECT_EQ(parse_mount_options({"noexec", "exec", "nodev"}).flags,
            static_cast<unsigned long>(MS_NODEV));
}

TEST(NsMountOptions, BindRecursionAndPropagation) {
  MountOptions o = parse_mount_options({"rbind", "ro", "rprivate"});
  EXPECT_TRUE(o.recursive);
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_RDONLY));
  EXPECT_EQ(o.propagation, static_cast<unsigned long>(MS_PRIVATE | MS_REC));
  EXPECT_TRUE(o.data.empty());
  EXPECT_FALSE(parse_mount_options({"rbind", "bind"}).recursive);
}

TEST(NsMountOptions, EmptyAndDefaultsAreIgnored) {
  MountOptions o = parse_mount_options({"", "defaults"});
  EXPECT_EQ(o.flags, 0u);
  EXPECT_TRUE(o.data.empty());
}

}  // namespace
}  // namespace ckpt::ns
