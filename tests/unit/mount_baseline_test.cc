// The record of a container's initial mount table in its state directory
// (runtime/container/mount_baseline.h).
#include "runtime/container/mount_baseline.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "common/error.h"
#include "common/file_util.h"

namespace ckpt::runtime {
namespace {

class StateDir {
 public:
  StateDir() {
    char tmpl[] = "/tmp/ckpt-mounts-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~StateDir() { remove_tree(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

constexpr const char* kMountinfo =
    "107 44 254:0 / / ro,relatime shared:3 - ext4 /dev/vda rw\n"
    "113 107 254:0 /srv/my\\040data /mnt rw,relatime - ext4 /dev/vda rw\n";

TEST(MountBaseline, SavedAndLoadedUnchanged) {
  StateDir dir;
  save_initial_mounts(dir.path(), kMountinfo);
  auto loaded = load_initial_mounts(dir.path());
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(*loaded, checkpoint::parse_mountinfo(kMountinfo));
  EXPECT_EQ((*loaded)[1].root, "/srv/my data");
  EXPECT_EQ((*loaded)[0].propagation, "shared");
}

TEST(MountBaseline, JsonRoundTripKeepsEveryField) {
  checkpoint::MountTable t = {{"/a b", "/r", "tmpfs", "src", "rw", "rw,size=1k", "master"}};
  EXPECT_EQ(mount_table_from_json(mount_table_to_json(t)), t);
}

TEST(MountBaseline, MissingFileIsNone) {
  StateDir dir;
  EXPECT_FALSE(load_initial_mounts(dir.path()).has_value());
}

TEST(MountBaseline, DamagedFileIsAnErrorNamingIt) {
  StateDir dir;
  write_file_atomic(dir.path() + "/mounts.json", "{\"mounts\": [{\"mount_point\": 3}]}");
  try {
    load_initial_mounts(dir.path());
    FAIL() << "accepted a damaged table";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir.path() + "/mounts.json"), std::string::npos)
        << e.what();
  }
  write_file_atomic(dir.path() + "/mounts.json", "not json");
  EXPECT_THROW(load_initial_mounts(dir.path()), Error);
}

TEST(MountBaseline, UnparsableMountinfoIsNotSaved) {
  StateDir dir;
  EXPECT_THROW(save_initial_mounts(dir.path(), "1 2 3\n"), Error);
  EXPECT_FALSE(load_initial_mounts(dir.path()).has_value());
}

}  // namespace
}  // namespace ckpt::runtime
