#include <gtest/gtest.h>
#include <sys/mman.h>

#include "common/error.h"
#include "runtime/task/maps.h"

namespace ckpt::task {
namespace {

TEST(TaskMaps, ParsesFileAnonAndSpecialLines) {
  std::string text =
      "55b241304000-55b241306000 r--p 00000000 fe:00 247134                     /usr/bin/cat\n"
      "55b274c76000-55b274c97000 rw-p 00000000 00:00 0                          [heap]\n"
      "7f932d2ff000-7f932d321000 rw-p 00000000 00:00 0 \n"
      "7f932d567000-7f932d56e000 r--s 0000a000 fe:01 332280                     /tmp/a b "
      "(deleted)\n"
      "7f932d577000-7f932d579000 r-xp 00000000 00:00 0                          [vdso]\n"
      "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";
  auto maps = parse_maps(text);
  ASSERT_EQ(maps.size(), 6u);
  EXPECT_EQ(maps[0].start, 0x55b241304000u);
  EXPECT_EQ(maps[0].end, 0x55b241306000u);
  EXPECT_EQ(maps[0].prot, PROT_READ);
  EXPECT_FALSE(maps[0].shared);
  EXPECT_EQ(maps[0].inode, 247134u);
  EXPECT_EQ(maps[0].name, "/usr/bin/cat");
  EXPECT_TRUE(maps[0].is_file());
  EXPECT_EQ(maps[1].prot, PROT_READ | PROT_WRITE);
  EXPECT_EQ(maps[1].name, "[heap]");
  EXPECT_TRUE(maps[1].is_special());
  EXPECT_EQ(maps[2].name, "");
  EXPECT_FALSE(maps[2].is_file());
  EXPECT_TRUE(maps[3].shared);
  EXPECT_EQ(maps[3].offset, 0xa000u);
  EXPECT_EQ(maps[3].dev_minor, 1u);
  EXPECT_EQ(maps[3].name, "/tmp/a b (deleted)");
  EXPECT_EQ(maps[4].prot, PROT_READ | PROT_EXEC);
  EXPECT_EQ(maps[5].start, 0xffffffffff600000u);
  EXPECT_EQ(maps[5].prot, PROT_EXEC);
}

TEST(TaskMaps, EmptyTextGivesNoEntries) {
  EXPECT_TRUE(parse_maps("").empty());
}

TEST(TaskMaps, BadLineNamesTheLine) {
  try {
    parse_maps("1000-2000 rw-p 00000000 00:00 0\nnot a maps line\n");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
}

TEST(TaskMaps, EndBeforeStartIsRejected) {
  EXPECT_THROW(parse_maps("2000-1000 rw-p 00000000 00:00 0\n"), Error);
}

}  // namespace
}  // namespace ckpt::task
