// The container state store without privileges: the one-step creation, the record of a creator,
// and the status rule (creating / broken / running / paused / stopped).
#include <dirent.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/file_lock.h"
#include "common/file_util.h"
#include "runtime/container/state.h"
#include "tests/unit/image_test_util.h"

namespace ckpt::runtime {
namespace {

using ckpt::image::image_test::error_of;
using ckpt::image::image_test::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* ent = ::readdir(d)) {
    std::string name = ent->d_name;
    if (name != "." && name != "..") out.push_back(name);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

ContainerState creating(const std::string& id) {
  ContainerState s;
  s.id = id;
  s.creating = true;
  s.creator_pid = ::getpid();
  s.creator_start_time = process_start_time(::getpid());
  return s;
}

config::ContainerSpec spec_named(const std::string& id) {
  config::ContainerSpec spec;
  spec.name = id;
  spec.process.args = {"/bin/true"};
  return spec;
}

TEST(ContainerStatus, CreatingUntilTheRecordNamesAnInitThenByTheInit) {
  ContainerState s;
  s.creating = true;
  EXPECT_EQ(derive_status(s, {.creator_alive = true}), Status::creating);
  EXPECT_EQ(derive_status(s, {.creator_alive = false}), Status::broken);
  // A half-started init does not make a record whose creator died look started.
  EXPECT_EQ(derive_status(s, {.init_alive = true, .creator_alive = false}), Status::broken);
  s.creating = false;
  EXPECT_EQ(derive_status(s, {.init_alive = true}), Status::running);
  EXPECT_EQ(derive_status(s, {.init_alive = true, .frozen = true}), Status::paused);
  EXPECT_EQ(derive_status(s, {.init_alive = false, .frozen = true}), Status::stopped);
  // After creation the creator's life is irrelevant (run -d exits at once).
  EXPECT_EQ(derive_status(s, {.init_alive = true, .creator_alive = false}), Status::running);
  EXPECT_STREQ(status_name(Status::creating), "creating");
  EXPECT_STREQ(status_name(Status::broken), "broken");
}

TEST(ContainerStatus, CreatorFieldsSurviveJson) {
  ContainerState s = creating("c1");
  ContainerState back = ContainerState::from_json(s.to_json());
  EXPECT_TRUE(back.creating);
  EXPECT_EQ(back.creator_pid, s.creator_pid);
  EXPECT_EQ(back.creator_start_time, s.creator_start_time);
  // Records written before these fields existed load as created.
  nlohmann::json old = s.to_json();
  old.erase("creating");
  EXPECT_FALSE(ContainerState::from_json(old).creating);
}

TEST(StateStore, CreatePublishesStateSpecAndLockInOneStep) {
  TempDir tmp;
  StateStore store(tmp / "root");
  UniqueFd lock = store.create(creating("c1"), spec_named("c1"));
  ASSERT_TRUE(lock.valid());
  EXPECT_THAT(entries(store.root()), ElementsAre("c1"));  // no staging directory left
  EXPECT_THAT(entries(store.dir("c1")), ElementsAre("creator.lock", "spec.json", "state.json"));
  EXPECT_TRUE(store.load("c1").creating);
  EXPECT_EQ(store.load_spec("c1").process.args, std::vector<std::string>{"/bin/true"});
  EXPECT_THAT(store.list(), ElementsAre("c1"));
  EXPECT_TRUE(lock_file_held(store.creator_lock_path("c1")));
  lock.reset();  // the creator dies
  EXPECT_FALSE(lock_file_held(store.creator_lock_path("c1")));
}

TEST(StateStore, ASecondContainerOfTheNameIsRefusedAndTheFirstUntouched) {
  TempDir tmp;
  StateStore store(tmp / "root");
  UniqueFd lock = store.create(creating("c1"), spec_named("c1"));
  ContainerState other = creating("c1");
  other.spec_path = "/other.yaml";
  EXPECT_THAT(error_of([&] { store.create(other, spec_named("c1")); }),
              HasSubstr("container 'c1' already exists"));
  EXPECT_EQ(store.load("c1").spec_path, "");
  EXPECT_THAT(entries(store.root()), ElementsAre("c1"));
}

TEST(StateStore, StagingOfADeadCreatorIsSweptAndALiveOnesKept) {
  TempDir tmp;
  StateStore store(tmp / "root");
  make_dirs(store.root(), 0700);
  unsigned long long me = process_start_time(::getpid());
  // Our pid with another start time is a recycled pid: its creator is dead.
  std::string dead = ".new-" + std::to_string(::getpid()) + "-" + std::to_string(me + 1) + "-c1";
  std::string live = ".new-" + std::to_string(::getpid()) + "-" + std::to_string(me) + "-c2";
  ASSERT_EQ(::mkdir((store.root() + "/" + dead).c_str(), 0700), 0);
  ASSERT_EQ(::mkdir((store.root() + "/" + live).c_str(), 0700), 0);
  store.remove_stale_staging();
  EXPECT_THAT(entries(store.root()), ElementsAre(live));
  EXPECT_TRUE(store.list().empty());
}

TEST(StateStore, ADirectoryWithoutStateLoadsAsAbandonedCreation) {
  TempDir tmp;
  StateStore store(tmp / "root");
  make_dirs(store.dir("old"), 0700);
  EXPECT_THAT(store.list(), ElementsAre("old"));
  ContainerState s = store.load("old");
  EXPECT_EQ(s.id, "old");
  EXPECT_TRUE(s.creating);
  EXPECT_EQ(s.creator_pid, 0);
  EXPECT_EQ(current_status(store, s), Status::broken);
  EXPECT_THAT(error_of([&] { store.load("none"); }), HasSubstr("'none' does not exist"));
}

}  // namespace
}  // namespace ckpt::runtime
