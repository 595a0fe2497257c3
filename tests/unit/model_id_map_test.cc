// Id maps (runtime/model/id_map.h): parsing /proc/PID/uid_map text, translating host ids into a
// user namespace's view, and turning a dumped process's credentials into that view.
#include <gtest/gtest.h>

#include "common/error.h"
#include "runtime/model/id_map.h"

namespace ckpt::model {
namespace {

// As the kernel prints it (kernel/user_namespace.c: "%10u %10u %10u\n").
const char* const kTwoLines =
    "         0     300000       1000\n"
    "      1000     410000      64536\n";

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(IdMap, ParsesThePaddedKernelFormat) {
  std::vector<IdRange> map = parse_id_map(kTwoLines, "/proc/7/uid_map");
  ASSERT_EQ(map.size(), 2u);
  EXPECT_EQ(map[0], (IdRange{0, 300000, 1000}));
  EXPECT_EQ(map[1], (IdRange{1000, 410000, 64536}));
  EXPECT_TRUE(parse_id_map("", "x").empty());
  EXPECT_EQ(id_map_text(map), "0 300000 1000, 1000 410000 64536");
}

TEST(IdMap, MalformedLinesAreRefusedNamingFileAndLine) {
  for (const char* bad : {"0 100000\n", "0 100000 65536 7\n", "0 -1 5\n", "a 1 2\n", "0 1 0\n",
                          "0 1 99999999999\n"}) {
    SCOPED_TRACE(bad);
    std::string text = std::string("0 5 1\n") + bad;
    std::string err = error_of([&] { parse_id_map(text, "/proc/7/gid_map"); });
    EXPECT_NE(err.find("/proc/7/gid_map: line 2"), std::string::npos) << err;
  }
}

TEST(IdMap, TranslatesInsideEachRangeAndNowhereElse) {
  std::vector<IdRange> map = parse_id_map(kTwoLines, "m");
  EXPECT_EQ(to_inside(map, 300000), 0u);
  EXPECT_EQ(to_inside(map, 300999), 999u);
  EXPECT_EQ(to_inside(map, 301000), std::nullopt);
  EXPECT_EQ(to_inside(map, 410000), 1000u);
  EXPECT_EQ(to_inside(map, 474535), 65535u);
  EXPECT_EQ(to_inside(map, 474536), std::nullopt);
  EXPECT_EQ(to_inside(map, 0), std::nullopt);
  // A range reaching the top of the id space does not wrap around.
  std::vector<IdRange> top = {{0, 4294967040u, 256}};
  EXPECT_EQ(to_inside(top, 4294967295u), 255u);
  EXPECT_EQ(to_inside(top, 5), std::nullopt);
}

TEST(IdMap, GroupsSplitIntoSortedInsideAndUnmappedHostIds) {
  // Not monotonic across lines: host 500000.. is inside 1000.., host 600000.. is inside 0..
  std::vector<IdRange> map = {{1000, 500000, 10}, {0, 600000, 10}};
  SplitGroups g = split_groups(map, {4242, 500001, 600002, 0});
  EXPECT_EQ(g.mapped, (std::vector<uint32_t>{2, 1001}));
  EXPECT_EQ(g.unmapped, (std::vector<uint32_t>{0, 4242}));
}

TEST(IdMap, CredentialsTurnIntoTheNamespaceView) {
  UserNamespace ns{
      {{0, 300000, 1000}, {1000, 410000, 64536}}, {{0, 500000, 1000}, {1000, 610000, 64536}}, true};
  Process p;
  uint32_t uid[4] = {410000, 410001, 410002, 410000};
  uint32_t gid[4] = {610000, 610001, 610002, 610003};
  std::copy(std::begin(uid), std::end(uid), p.uid);
  std::copy(std::begin(gid), std::end(gid), p.gid);
  p.groups = {500010, 610000, 612000, 77};
  to_namespace_view(ns, p);
  EXPECT_EQ(std::vector<uint32_t>(p.uid, p.uid + 4),
            (std::vector<uint32_t>{1000, 1001, 1002, 1000}));
  EXPECT_EQ(std::vector<uint32_t>(p.gid, p.gid + 4),
            (std::vector<uint32_t>{1000, 1001, 1002, 1003}));
  EXPECT_EQ(p.groups, (std::vector<uint32_t>{10, 1000, 3000}));
  EXPECT_EQ(p.unmapped_groups, (std::vector<uint32_t>{77}));
}

TEST(IdMap, AnUnmappedUidOrGidIsRefusedNamingIt) {
  UserNamespace ns{{{0, 100000, 65536}}, {{0, 100000, 65536}}, false};
  Process p;
  uint32_t uid[4] = {100000, 100000, 100000, 0};  // fsuid still host root
  std::copy(std::begin(uid), std::end(uid), p.uid);
  std::fill(std::begin(p.gid), std::end(p.gid), 100000);
  std::string err = error_of([&] { to_namespace_view(ns, p); });
  EXPECT_NE(err.find("filesystem uid 0 (host) is not mapped"), std::string::npos) << err;
  EXPECT_NE(err.find("0 100000 65536"), std::string::npos) << err;

  Process q;
  std::fill(std::begin(q.uid), std::end(q.uid), 100000);
  std::fill(std::begin(q.gid), std::end(q.gid), 100000);
  q.gid[1] = 65534;
  err = error_of([&] { to_namespace_view(ns, q); });
  EXPECT_NE(err.find("effective gid 65534"), std::string::npos) << err;
}

TEST(IdMap, UserNamespaceFromProcFiles) {
  UserNamespace ns = parse_user_namespace("0 100000 65536\n", "0 200000 10\n", "deny\n", "/proc/9");
  EXPECT_EQ(ns.uid_map, (std::vector<IdRange>{{0, 100000, 65536}}));
  EXPECT_EQ(ns.gid_map, (std::vector<IdRange>{{0, 200000, 10}}));
  EXPECT_FALSE(ns.setgroups_allowed);
  EXPECT_TRUE(parse_user_namespace("", "", "allow", "/proc/9").setgroups_allowed);
  std::string err = error_of([] { parse_user_namespace("", "", "maybe", "/proc/9"); });
  EXPECT_NE(err.find("/proc/9/setgroups"), std::string::npos) << err;
}

}  // namespace
}  // namespace ckpt::model
