// State directories and checkpoint images hold what no other user may read (process memory,
// the spec with its environment, logs): directories 0700 and files 0600, whatever the caller's
// umask. Checked with umask 0, the most permissive, over everything run, checkpoint, restore
// and the monitor write, the --root directory itself included (created by crun-ckpt here).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "container_fixture.h"
#include "harness.h"

namespace ckpt::test {
namespace {

using std::chrono::seconds;

class UmaskGuard {
 public:
  explicit UmaskGuard(mode_t mask) : old_(::umask(mask)) {}
  ~UmaskGuard() { ::umask(old_); }

 private:
  mode_t old_;
};

mode_t mode_of(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

// Every directory under `top` (and `top`) is 0700, every file 0600; returns what is not.
std::vector<std::string> wider_than_private(const std::string& top) {
  std::vector<std::string> wrong;
  auto check = [&](const std::filesystem::path& p) {
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) return;
    mode_t want = S_ISDIR(st.st_mode) ? 0700 : 0600;
    if ((st.st_mode & 07777) != want) {
      char mode[8];
      std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
      wrong.push_back(p.string() + " is " + mode);
    }
  };
  check(top);
  for (const auto& e : std::filesystem::recursive_directory_iterator(top)) check(e.path());
  return wrong;
}

TEST(StatePermissions, StateAndImageArePrivateWhateverTheUmask) {
  CKPT_REQUIRE_ROOT();
  UmaskGuard permissive(0);
  Cli cli;
  // crun-ckpt creates the root itself.
  ASSERT_EQ(::rmdir(cli.root().c_str()), 0);
  std::string id = unique_name("perm");
  cli.track(id);
  auto spec = write_spec(cli, id, {"/bin/sh", "-c", "echo started; exec /bin/sleep 600"});
  ASSERT_EQ(cli({"run", "-d", spec}).exit_code, 0);
  std::string image = cli.scratch().file("images/one");
  auto ck = cli({"checkpoint", "--leave-running", "--image-path", image, id}, seconds(120));
  ASSERT_EQ(ck.exit_code, 0) << ck.err;
  std::string copy = unique_name("perm-copy");
  cli.track(copy);
  auto rs = cli({"restore", "-d", "--image-path", image, "--name", copy}, seconds(120));
  ASSERT_EQ(rs.exit_code, 0) << rs.err;
  // Its monitor records the exit (exit.json) when the init dies.
  ASSERT_EQ(cli({"kill", copy, "KILL"}).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return !slurp(cli.root() + "/" + copy + "/exit.json").empty(); }));

  for (const char* name : {"state.json", "spec.json", "container.log", "mounts.json",
                           "creator.lock", "checkpoint.lock"})
    EXPECT_TRUE(std::filesystem::exists(cli.root() + "/" + id + "/" + name)) << name;
  EXPECT_EQ(mode_of(cli.root()), 0700u);
  auto state = wider_than_private(cli.root());
  EXPECT_TRUE(state.empty()) << ::testing::PrintToString(state);
  EXPECT_TRUE(std::filesystem::exists(image + "/manifest.json"));
  auto img = wider_than_private(image);
  EXPECT_TRUE(img.empty()) << ::testing::PrintToString(img);
}

}  // namespace
}  // namespace ckpt::test
