// plan_groups (runtime/restore/restore_context.h): whether a restore keeps the stub's inherited
// supplementary groups, sets the dumped ones, or refuses, given what the user namespace allows.
#include <gtest/gtest.h>

#include "runtime/restore/restore_context.h"

namespace ckpt::restore {
namespace {

model::Process with_groups(std::vector<uint32_t> groups, std::vector<uint32_t> unmapped = {}) {
  model::Process p;
  p.groups = std::move(groups);
  p.unmapped_groups = std::move(unmapped);
  return p;
}

using Kind = GroupsStep::Kind;

TEST(RestoreGroups, TheInheritedGroupsAreKeptWhenTheyAreTheDumpedOnes) {
  // setgroups deny: nothing can be set, and nothing needs to be.
  EXPECT_EQ(plan_groups(with_groups({}), {{}, {}}, false).kind, Kind::keep);
  EXPECT_EQ(plan_groups(with_groups({}, {0, 4242}), {{}, {0, 4242}}, false).kind, Kind::keep);
  EXPECT_EQ(plan_groups(with_groups({10, 20}), {{10, 20}, {}}, true).kind, Kind::keep);
  // The model's order does not matter: the kernel keeps groups sorted.
  EXPECT_EQ(plan_groups(with_groups({20, 10}), {{10, 20}, {}}, true).kind, Kind::keep);
}

TEST(RestoreGroups, OtherMappedGroupsAreSetWhereSetgroupsIsAllowed) {
  EXPECT_EQ(plan_groups(with_groups({1000, 2000}), {{}, {}}, true).kind, Kind::set);
  // setgroups replaces the inherited unmapped groups too (what the init did at start).
  EXPECT_EQ(plan_groups(with_groups({10}), {{}, {0}}, true).kind, Kind::set);
}

TEST(RestoreGroups, OtherGroupsUnderSetgroupsDenyAreRefused) {
  GroupsStep step = plan_groups(with_groups({}), {{}, {0}}, false);
  ASSERT_EQ(step.kind, Kind::refuse);
  EXPECT_NE(step.reason.find("setgroups is deny"), std::string::npos) << step.reason;
  EXPECT_NE(step.reason.find("host gids 0"), std::string::npos) << step.reason;
  EXPECT_NE(step.reason.find("run the restore with the supplementary groups"), std::string::npos);
}

TEST(RestoreGroups, UnmappedGroupsThatWereNotInheritedAreRefused) {
  // Even where setgroups is allowed: no process inside can set a group its namespace does not map.
  GroupsStep step = plan_groups(with_groups({}, {77, 4242}), {{}, {4242}}, true);
  ASSERT_EQ(step.kind, Kind::refuse);
  EXPECT_NE(step.reason.find("host gids 77,4242"), std::string::npos) << step.reason;
  EXPECT_NE(step.reason.find("does not map"), std::string::npos) << step.reason;
}

}  // namespace
}  // namespace ckpt::restore
