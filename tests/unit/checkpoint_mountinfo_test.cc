// The mountinfo parser and the tmpfs capture policy built on it: which mounts are the
// container's own tmpfs, and which device nodes may be carried over.
#include <gtest/gtest.h>

#include "common/error.h"
#include "runtime/checkpoint/mountinfo.h"
#include "runtime/checkpoint/tmpfs_policy.h"

namespace ckpt::checkpoint {
namespace {

// A container's table as this runtime builds it, plus a host tmpfs bound in at /data and a
// second mount of the container's own /tmp file system at /tmp2.
constexpr const char* kContainer =
    "98 43 254:0 / / ro,relatime - ext4 /dev/vda rw,discard\n"
    "99 98 0:46 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
    "100 98 0:47 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755\n"
    "101 100 0:48 / /dev/pts rw,nosuid,noexec,relatime - devpts devpts rw,mode=620,ptmxmode=666\n"
    "102 100 0:49 / /dev/shm rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,size=65536k\n"
    "104 98 0:51 / /tmp rw,relatime shared:5 master:2 - tmpfs tmpfs rw,size=131072k\n"
    "105 98 0:25 /ckpt /data rw,nosuid,nodev - tmpfs tmpfs rw,size=800k,mode=755\n"
    "106 98 0:51 /sub /tmp2 rw,relatime - tmpfs tmpfs rw,size=131072k\n";

constexpr const char* kHost =
    "22 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
    "25 22 0:25 / /run rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,size=800k,mode=755\n";

TEST(Mountinfo, ParsesEveryField) {
  std::vector<MountInfo> m = parse_mount_records(kContainer);
  ASSERT_EQ(m.size(), 8u);
  const MountInfo& tmp = m[5];
  EXPECT_EQ(tmp.id, 104);
  EXPECT_EQ(tmp.parent_id, 98);
  EXPECT_EQ(tmp.major, 0u);
  EXPECT_EQ(tmp.minor, 51u);
  EXPECT_EQ(tmp.root, "/");
  EXPECT_EQ(tmp.mount_point, "/tmp");
  EXPECT_EQ(tmp.mount_options, "rw,relatime");
  EXPECT_EQ(tmp.optional_fields, (std::vector<std::string>{"shared:5", "master:2"}));
  EXPECT_EQ(tmp.fs_type, "tmpfs");
  EXPECT_EQ(tmp.source, "tmpfs");
  EXPECT_EQ(tmp.super_options, "rw,size=131072k");
  EXPECT_EQ(m[0].major, 254u);
  EXPECT_TRUE(m[0].read_only());
  EXPECT_FALSE(tmp.read_only());
}

TEST(Mountinfo, DecodesOctalEscapesAndKeepsEmptyFields) {
  std::vector<MountInfo> m = parse_mount_records(
      "30 22 0:60 / /mnt/with\\040space\\134and\\011tab rw - tmpfs  rw,size=4k\n");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].mount_point, "/mnt/with space\\and\ttab");
  EXPECT_EQ(m[0].source, "");
  EXPECT_EQ(m[0].super_options, "rw,size=4k");
}

TEST(Mountinfo, MalformedLineIsNamed) {
  for (const char* bad : {"98 43 254:0 / / ro\n", "x 43 254:0 / / rw - ext4 /dev/vda rw\n",
                          "98 43 2540 / / rw - ext4 /dev/vda rw\n"}) {
    try {
      parse_mount_records(std::string("22 1 254:0 / / rw - ext4 /dev/vda rw\n") + bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("mountinfo line 2"), std::string::npos) << e.what();
    }
  }
}

TEST(TmpfsPolicy, CapturesTheContainersOwnTmpfsOnly) {
  std::vector<std::string> problems;
  std::vector<MountInfo> own =
      own_tmpfs_mounts(parse_mount_records(kContainer), parse_mount_records(kHost), problems);
  std::vector<std::string> points;
  for (const MountInfo& m : own) points.push_back(m.mount_point);
  // Not /data (the host's /run bound in), not /tmp2 (the /tmp file system again), not devpts.
  EXPECT_EQ(points, (std::vector<std::string>{"/dev", "/dev/shm", "/tmp"}));
  EXPECT_TRUE(problems.empty());
}

TEST(TmpfsPolicy, ATmpfsSeenOnlyThroughASubdirectoryIsRefused) {
  std::vector<std::string> problems;
  std::vector<MountInfo> own =
      own_tmpfs_mounts(parse_mount_records("98 43 254:0 / / ro - ext4 /dev/vda rw\n"
                                           "106 98 0:51 /sub /tmp2 rw - tmpfs tmpfs rw\n"),
                       parse_mount_records(kHost), problems);
  EXPECT_TRUE(own.empty());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("tmpfs at /tmp2 shows only its directory /sub"), std::string::npos)
      << problems[0];
}

TEST(TmpfsPolicy, OnlyTheRuntimesOwnDevicesInDevAreCarriedOver) {
  EXPECT_EQ(device_refusal("/dev", "null", false, 1, 3), "");
  EXPECT_EQ(device_refusal("/dev", "tty", false, 5, 0), "");
  // Same name, other numbers; right numbers, other place; block devices; other mounts.
  EXPECT_NE(device_refusal("/dev", "null", false, 1, 5), "");
  EXPECT_NE(device_refusal("/dev", "null2", false, 1, 3), "");
  EXPECT_NE(device_refusal("/dev", "sub/null", false, 1, 3), "");
  EXPECT_NE(device_refusal("/dev", "null", true, 1, 3), "");
  EXPECT_NE(device_refusal("/tmp", "null", false, 1, 3), "");
  std::string why = device_refusal("/dev", "sda", true, 8, 0);
  EXPECT_NE(why.find("block device 8:0"), std::string::npos) << why;
  EXPECT_NE(why.find("/dev/null"), std::string::npos) << why;
}

TEST(TmpfsPolicy, PathInContainer) {
  EXPECT_EQ(path_in_container("/dev/shm", "a/b"), "/dev/shm/a/b");
  EXPECT_EQ(path_in_container("/dev/shm", ""), "/dev/shm");
  EXPECT_EQ(path_in_container("/", "x"), "/x");
}

}  // namespace
}  // namespace ckpt::checkpoint
