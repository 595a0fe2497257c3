#include <gtest/gtest.h>

#include "common/error.h"
#include "runtime/restore/layout.h"

namespace ckpt::restore {
namespace {

TEST(RestoreLayout, FindHoleSkipsBusyRangesAndAligns) {
  std::vector<Range> busy = {{0x3000, 0x5000}, {0x1000, 0x2000}, {0x5000, 0x7800}};
  EXPECT_EQ(find_hole(busy, 0x1000, 0x1000, 0x100000), 0x2000u);
  EXPECT_EQ(find_hole(busy, 0x2000, 0x1000, 0x100000), 0x8000u);  // 0x7800 rounded up
  EXPECT_EQ(find_hole(busy, 0x1000, 0x1234, 0x100000), 0x2000u);
  EXPECT_EQ(find_hole({}, 0x1000, 0x10000, 0x20000), 0x10000u);
  EXPECT_THROW(find_hole(busy, 0x2000, 0x1000, 0x9000), Error);
}

TEST(RestoreLayout, SpecialMappingsMoveAsTheKernelLaidThemOut) {
  std::vector<NamedRange> stub = {{"[vdso]", {0x7f0000006000, 0x7f0000008000}},
                                  {"[vvar]", {0x7f0000000000, 0x7f0000004000}},
                                  {"[vvar_vclock]", {0x7f0000004000, 0x7f0000006000}}};
  std::vector<NamedRange> dumped = {{"[vvar]", {0x7ffd00000000, 0x7ffd00004000}},
                                    {"[vvar_vclock]", {0x7ffd00004000, 0x7ffd00006000}},
                                    {"[vdso]", {0x7ffd00006000, 0x7ffd00008000}}};
  auto moves = plan_special_moves(stub, dumped);
  ASSERT_EQ(moves.size(), 3u);
  EXPECT_EQ(moves[0].name, "[vvar]");
  EXPECT_EQ(moves[0].from.start, 0x7f0000000000u);
  EXPECT_EQ(moves[0].to, 0x7ffd00000000u);
  EXPECT_EQ(moves[2].name, "[vdso]");
  EXPECT_EQ(moves[2].to, 0x7ffd00006000u);
}

TEST(RestoreLayout, DifferentVdsoLayoutIsRefusedWithAHint) {
  std::vector<NamedRange> stub = {{"[vvar]", {0x1000000, 0x1004000}},
                                  {"[vdso]", {0x1004000, 0x1006000}}};
  std::vector<NamedRange> bigger = {{"[vvar]", {0x2000000, 0x2004000}},
                                    {"[vdso]", {0x2004000, 0x2007000}}};
  std::vector<NamedRange> apart = {{"[vvar]", {0x2000000, 0x2004000}},
                                   {"[vdso]", {0x2008000, 0x200a000}}};
  std::vector<NamedRange> older = {{"[vdso]", {0x2004000, 0x2006000}}};
  for (const auto& dumped : {bigger, apart, older}) {
    try {
      plan_special_moves(stub, dumped);
      ADD_FAILURE() << "accepted a different vdso layout";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("same kernel"), std::string::npos) << e.what();
    }
  }
  EXPECT_TRUE(plan_special_moves({}, {}).empty());  // vdso=0 on both sides
}

}  // namespace
}  // namespace ckpt::restore
