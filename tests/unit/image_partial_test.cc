// Partial image directories (image/partial.h): who may remove them, who must be refused, and
// image paths that are symlinks. Locks are taken by this process on separate open file
// descriptions, which conflict exactly as another process's would (flock(2)).
#include <dirent.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "image/image.h"
#include "image/partial.h"
#include "tests/unit/image_test_util.h"

namespace ckpt::image {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace ckpt::image::image_test;

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

// A partial directory as a writer of pid `pid` leaves it, with one file inside.
std::string make_partial(const TempDir& tmp, const std::string& base, pid_t pid) {
  std::string path = tmp / ("." + base + ".partial-" + std::to_string(pid));
  EXPECT_EQ(::mkdir(path.c_str(), 0700), 0);
  write_bytes(path + "/pages-1", "half a dump");
  return path;
}

// Holds an exclusive flock on `path` as a live writer does.
UniqueFd hold_lock(const std::string& path) {
  UniqueFd fd = open_file(path, O_RDONLY | O_DIRECTORY);
  EXPECT_EQ(::flock(fd.get(), LOCK_EX | LOCK_NB), 0);
  return fd;
}

TEST(ImagePartial, OwnerIsParsedOnlyFromThisImagesPartials) {
  EXPECT_EQ(partial_owner("img", ".img.partial-42"), 42);
  EXPECT_EQ(partial_owner("a.b", ".a.b.partial-7"), 7);
  EXPECT_EQ(partial_owner("img", ".img.partial-"), std::nullopt);
  EXPECT_EQ(partial_owner("img", ".img.partial-42x"), std::nullopt);
  EXPECT_EQ(partial_owner("img", ".img.partial--3"), std::nullopt);
  EXPECT_EQ(partial_owner("img", ".img2.partial-42"), std::nullopt);
  EXPECT_EQ(partial_owner("img", "img.partial-42"), std::nullopt);
  EXPECT_EQ(partial_path("/x/y/img", 9), "/x/y/.img.partial-9");
  EXPECT_EQ(partial_path("img", 9), "./.img.partial-9");
}

TEST(ImagePartial, AWriterRemovesPartialsOfDeadWritersEvenWithALivePid) {
  TempDir tmp;
  // One named after a pid that is surely gone, one after a live pid (ours: as if recycled).
  // Neither is locked, so neither has a writer: the pid in a name is never trusted.
  make_partial(tmp, "img", 999999999);
  make_partial(tmp, "img", ::getpid());
  make_partial(tmp, "other", 999999999);  // another image's: not touched
  {
    ImageWriter writer(tmp / "img");
    writer.add_file("a", "1");
    writer.commit(nullptr);
  }
  EXPECT_THAT(entries(tmp.path()), ElementsAre(".other.partial-999999999", "img"));
}

TEST(ImagePartial, AWriterIsRefusedWhileAnotherWritesTheSamePathAndLeavesItAlone) {
  TempDir tmp;
  std::string live = make_partial(tmp, "img", 4242);
  UniqueFd lock = hold_lock(live);
  EXPECT_THAT(error_of([&] { ImageWriter{tmp / "img"}; }),
              AllOf(HasSubstr("another checkpoint (pid 4242) is writing an image there"),
                    HasSubstr(tmp / "img")));
  EXPECT_THAT(entries(live), ElementsAre("pages-1"));
  EXPECT_THAT(remove_stale_partials(tmp / "img"), ElementsAre(4242));
  EXPECT_THAT(entries(tmp.path()), ElementsAre(".img.partial-4242"));
  lock.reset();  // the writer dies
  EXPECT_THAT(remove_stale_partials(tmp / "img"), IsEmpty());
  EXPECT_THAT(entries(tmp.path()), IsEmpty());
}

TEST(ImagePartial, TheWritersOwnPartialIsLockedUntilItIsDestroyed) {
  TempDir tmp;
  {
    ImageWriter writer(tmp / "img");
    writer.add_file("a", "1");
    EXPECT_THAT(remove_stale_partials(tmp / "img"), ElementsAre(::getpid()));
    EXPECT_EQ(entries(tmp.path()).size(), 1u);
  }
  EXPECT_THAT(entries(tmp.path()), IsEmpty());
}

TEST(ImagePartial, ASymlinkedImagePathIsRefusedBeforeAnythingIsWritten) {
  TempDir tmp;
  ASSERT_EQ(::mkdir((tmp / "real").c_str(), 0700), 0);
  ASSERT_EQ(::symlink((tmp / "real").c_str(), (tmp / "to-dir").c_str()), 0);
  ASSERT_EQ(::symlink("/nonexistent/x", (tmp / "dangling").c_str()), 0);
  for (const char* name : {"to-dir", "dangling"}) {
    SCOPED_TRACE(name);
    EXPECT_THAT(error_of([&] { ImageWriter{tmp / name}; }),
                AllOf(HasSubstr(tmp / name + " is a symbolic link"), HasSubstr("give the real")));
  }
  EXPECT_THAT(entries(tmp.path()), ElementsAre("dangling", "real", "to-dir"));
  EXPECT_THAT(entries(tmp / "real"), IsEmpty());
}

TEST(ImagePartial, WithdrawRemovesACommittedImageWithoutTrace) {
  TempDir tmp;
  ImageWriter writer(tmp / "img");
  writer.add_file("a", random_bytes(4096));
  writer.commit(nullptr);
  ASSERT_THAT(entries(tmp.path()), ElementsAre("img"));
  writer.withdraw();
  EXPECT_THAT(entries(tmp.path()), IsEmpty());
}

}  // namespace
}  // namespace ckpt::image
