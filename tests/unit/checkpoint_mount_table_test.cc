// The mountinfo parser and the comparison of a container's mount table with the one it started
// with (runtime/checkpoint/mount_table.h).
#include <gtest/gtest.h>

#include "common/error.h"
#include "runtime/checkpoint/mount_table.h"

namespace ckpt::checkpoint {
namespace {

// A container's table as this runtime builds it (ns/rootfs.cc), copied from a real one.
constexpr const char* kStarted =
    "107 44 254:0 / / ro,relatime - ext4 /dev/vda rw,discard\n"
    "108 107 0:52 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
    "109 107 0:53 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755\n"
    "110 109 0:54 / /dev/pts rw,nosuid,noexec,relatime - devpts devpts rw,mode=620,ptmxmode=666\n"
    "111 109 0:55 / /dev/shm rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,size=65536k\n"
    "112 107 0:56 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro\n"
    "113 107 254:0 /srv/data /mnt rw,relatime - ext4 /dev/vda rw,discard\n"
    "114 107 0:57 / /tmp rw,relatime - tmpfs tmpfs rw\n";

MountTable started() {
  return parse_mountinfo(kStarted);
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

TEST(MountTable, ParsesEveryField) {
  MountTable t = started();
  ASSERT_EQ(t.size(), 8u);
  EXPECT_EQ(t[0].mount_point, "/");
  EXPECT_EQ(t[0].root, "/");
  EXPECT_EQ(t[0].fs_type, "ext4");
  EXPECT_EQ(t[0].source, "/dev/vda");
  EXPECT_EQ(t[0].mount_options, "ro,relatime");
  EXPECT_EQ(t[0].super_options, "rw,discard");
  EXPECT_EQ(t[0].propagation, "");
  EXPECT_EQ(t[6].mount_point, "/mnt");
  EXPECT_EQ(t[6].root, "/srv/data");
  EXPECT_EQ(t[7].fs_type, "tmpfs");
  EXPECT_EQ(t[7].source, "tmpfs");
}

TEST(MountTable, DecodesOctalEscapes) {
  MountTable t = parse_mountinfo(
      "120 107 0:60 /a\\040dir /my\\040mnt\\011x\\012y\\134z rw - tmpfs my\\040src "
      "rw,opt=a\\054b\n");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].root, "/a dir");
  EXPECT_EQ(t[0].mount_point, "/my mnt\tx\ny\\z");
  EXPECT_EQ(t[0].source, "my src");
  EXPECT_EQ(t[0].super_options, "rw,opt=a,b");
  // Messages stay on one line.
  EXPECT_EQ(printable_path(t[0].mount_point), "/my mnt\\011x\\012y\\134z");
}

TEST(MountTable, KeepsOnlyThePropagationKinds) {
  MountTable t = parse_mountinfo(
      "1 0 0:1 / / rw shared:5 master:2 - ext4 /dev/vda rw\n"
      "2 1 0:2 / /u rw unbindable - tmpfs none rw\n"
      "3 1 0:3 / /p rw master:7 propagate_from:3 - tmpfs none rw\n");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].propagation, "shared,master");
  EXPECT_EQ(t[1].propagation, "unbindable");
  EXPECT_EQ(t[2].propagation, "master,propagate_from");
}

TEST(MountTable, AnEmptySourceIsAField) {
  MountTable t = parse_mountinfo("5 1 0:9 / /x rw - tmpfs  rw\n");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].source, "");
  EXPECT_EQ(t[0].super_options, "rw");
}

TEST(MountTable, MalformedLineIsNamed) {
  try {
    parse_mountinfo(std::string(kStarted) + "115 107 0:58 / /x rw tmpfs tmpfs rw\n");
    FAIL() << "accepted a line without the separator";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("mountinfo line 9"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_mountinfo("1 0 0:1 / / rw - ext4 /dev/vda rw extra\n"), Error);
  EXPECT_THROW(parse_mountinfo("1 0 0:1 / /\n"), Error);
}

TEST(MountTable, SameTableWithOtherIdsAndDevicesIsNoChange) {
  // What a restore builds: the same mounts with new ids and new anonymous devices.
  std::string again = kStarted;
  for (auto [from, to] : {std::pair{"0:57", "0:91"}, std::pair{"114 107", "214 207"}}) {
    again.replace(again.find(from), std::string(from).size(), to);
  }
  EXPECT_TRUE(mount_table_changes(started(), parse_mountinfo(again)).empty());
  EXPECT_TRUE(mount_table_changes(started(), started()).empty());
}

TEST(MountTable, AddedMountIsNamedWithItsType) {
  auto changes = mount_table_changes(
      started(), parse_mountinfo(std::string(kStarted) +
                                 "115 114 0:58 / /tmp/x rw,relatime - tmpfs none rw\n"));
  ASSERT_EQ(changes.size(), 1u) << joined(changes);
  EXPECT_EQ(changes[0],
            "mount /tmp/x (tmpfs) was added at run time; restore cannot recreate it yet: unmount "
            "it before checkpointing");
}

TEST(MountTable, AddedBindNamesItsSourceDirectory) {
  auto changes = mount_table_changes(
      started(), parse_mountinfo(std::string(kStarted) +
                                 "115 114 254:0 /etc /tmp/etc rw,relatime - ext4 /dev/vda rw\n"));
  ASSERT_EQ(changes.size(), 1u) << joined(changes);
  EXPECT_NE(changes[0].find("mount /tmp/etc (ext4 bind of /etc) was added at run time"),
            std::string::npos)
      << changes[0];
}

TEST(MountTable, MountOverASpecMountIsNamedAsStacked) {
  auto changes = mount_table_changes(
      started(),
      parse_mountinfo(std::string(kStarted) + "115 113 0:58 / /mnt rw,relatime - tmpfs none rw\n"));
  ASSERT_EQ(changes.size(), 1u) << joined(changes);
  EXPECT_NE(changes[0].find("mount /mnt (tmpfs) was mounted over /mnt (ext4 bind of /srv/data) at "
                            "run time"),
            std::string::npos)
      << changes[0];
}

TEST(MountTable, UnmountedMountIsNamed) {
  MountTable now = started();
  now.erase(now.begin() + 7);  // /tmp
  auto changes = mount_table_changes(started(), now);
  ASSERT_EQ(changes.size(), 1u) << joined(changes);
  EXPECT_NE(changes[0].find("mount /tmp (tmpfs) was unmounted at run time"), std::string::npos)
      << changes[0];
}

TEST(MountTable, RemountNamesTheOldAndNewOptions) {
  MountTable now = started();
  now[6].mount_options = "ro,relatime";
  now[7].super_options = "rw,size=1024k";
  auto changes = mount_table_changes(started(), now);
  ASSERT_EQ(changes.size(), 2u) << joined(changes);
  EXPECT_EQ(changes[0],
            "mount /mnt (ext4 bind of /srv/data) was changed at run time (options rw,relatime -> "
            "ro,relatime); restore cannot recreate that yet: undo the change before "
            "checkpointing");
  EXPECT_NE(changes[1].find("mount /tmp (tmpfs) was changed at run time (file-system options rw "
                            "-> rw,size=1024k)"),
            std::string::npos)
      << changes[1];
}

TEST(MountTable, PropagationChangeIsNamed) {
  MountTable now = started();
  now[7].propagation = "shared";
  auto changes = mount_table_changes(started(), now);
  ASSERT_EQ(changes.size(), 1u) << joined(changes);
  EXPECT_NE(changes[0].find("mount /tmp (tmpfs) was changed at run time (propagation private -> "
                            "shared)"),
            std::string::npos)
      << changes[0];
}

TEST(MountTable, ReplacedMountNamesBothTypes) {
  MountTable now = started();
  now[6] = MountEntry{"/mnt", "/", "tmpfs", "tmpfs", "rw", "rw", ""};
  auto changes = mount_table_changes(started(), now);
  ASSERT_EQ(changes.size(), 1u) << joined(changes);
  EXPECT_NE(changes[0].find("mount /mnt (tmpfs) replaced /mnt (ext4 bind of /srv/data from "
                            "/dev/vda) at run time"),
            std::string::npos)
      << changes[0];
}

TEST(MountTable, UnmountingASubtreeNamesEveryMount) {
  MountTable now = started();
  now.erase(now.begin() + 2, now.begin() + 5);  // /dev, /dev/pts, /dev/shm
  auto changes = mount_table_changes(started(), now);
  ASSERT_EQ(changes.size(), 3u) << joined(changes);
  EXPECT_NE(changes[0].find("mount /dev (tmpfs)"), std::string::npos);
  EXPECT_NE(changes[1].find("mount /dev/pts (devpts)"), std::string::npos);
  EXPECT_NE(changes[2].find("mount /dev/shm (tmpfs)"), std::string::npos);
}

TEST(MountTable, MountedAgainAsBeforeIsNoChange) {
  // Unmounted and mounted again the same way: the restore builds exactly that.
  MountTable now = started();
  MountEntry tmp = now[7];
  now.erase(now.begin() + 7);
  now.insert(now.begin() + 1, tmp);
  EXPECT_TRUE(mount_table_changes(started(), now).empty());
}

}  // namespace
}  // namespace ckpt::checkpoint
