// uid_map/gid_map parsing and the mapping both ways (common/id_map.h).
#include <gtest/gtest.h>

#include "common/error.h"
#include "runtime/task/id_map.h"

namespace ckpt::task {
namespace {

TEST(IdMap, IdentityOutsideAUserNamespace) {
  IdMap m = IdMap::parse("         0          0 4294967295\n");
  EXPECT_EQ(m.to_inside(0), 0u);
  EXPECT_EQ(m.to_inside(4294967294u), 4294967294u);
  EXPECT_EQ(m.to_outside(1000), 1000u);
}

TEST(IdMap, MapsBothWaysThroughSeveralRanges) {
  IdMap m = IdMap::parse("0 100000 1000\n1000 5000 1\n1001 101001 64535\n");
  EXPECT_EQ(m.ranges().size(), 3u);
  EXPECT_EQ(m.to_inside(100000), 0u);
  EXPECT_EQ(m.to_inside(100999), 999u);
  EXPECT_EQ(m.to_inside(5000), 1000u);
  EXPECT_EQ(m.to_inside(101001), 1001u);
  EXPECT_EQ(m.to_outside(0), 100000u);
  EXPECT_EQ(m.to_outside(1000), 5000u);
  EXPECT_EQ(m.to_outside(65535), 165535u);
  // Ids outside every range have no counterpart (they show as the overflow id).
  EXPECT_FALSE(m.to_inside(0).has_value());
  EXPECT_FALSE(m.to_inside(100000 + 1000).has_value());
  EXPECT_FALSE(m.to_outside(65536).has_value());
}

TEST(IdMap, EmptyMapMapsNothing) {
  IdMap m = IdMap::parse("");
  EXPECT_FALSE(m.to_inside(0).has_value());
  EXPECT_FALSE(m.to_outside(0).has_value());
}

TEST(IdMap, MalformedLinesAreNamed) {
  for (const char* bad : {"0 100000\n", "0 x 1\n", "0 0 0\n", "0 0 99999999999\n"}) {
    try {
      IdMap::parse(std::string("5 5 1\n") + bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace ckpt::task
