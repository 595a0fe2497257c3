// Bad input through the crun-ckpt binary: each case must end within its timeout with exactly
// one line on stderr that says what, where and what to do, and must harm nothing (the
// container keeps running, no state, image or cgroup is left behind).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "container_fixture.h"
#include "harness.h"
#include "image/checksum.h"

namespace ckpt::test {
namespace {

using std::chrono::seconds;

int lines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

bool running(Cli& cli, const std::string& id) {
  return cli({"state", id}).out.find("\"running\"") != std::string::npos;
}

// A detached `sleep` container, deleted by the Cli on scope exit.
std::string start_sleeper(Cli& cli, const std::string& prefix) {
  std::string id = unique_name(prefix);
  cli.track(id);
  auto r = cli({"run", "-d", write_spec(cli, id, {"/bin/sleep", "600"})});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return id;
}

TEST(BadInput, ExecIntoAPausedContainerIsRefusedInsteadOfHanging) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string id = start_sleeper(cli, "pausedexec");
  ASSERT_EQ(cli({"pause", id}).exit_code, 0);
  // Before the fix this waited for `resume`: the timeout turns that into exit_code -1.
  auto r = cli({"exec", id, "--", "/bin/true"}, seconds(20));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("cannot exec in container '" + id + "': it is paused"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("crun-ckpt resume " + id), std::string::npos) << r.err;
  // Nothing joined the frozen cgroup: after resume, exec works and only the init is there.
  ASSERT_EQ(cli({"resume", id}).exit_code, 0);
  auto ok = cli({"exec", id, "--", "/bin/sh", "-c", "echo ok"}, seconds(20));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "ok\n");
  auto ps = cli({"ps", id});
  EXPECT_EQ(lines(ps.out), 2) << ps.out;  // header and the init
}

TEST(BadInput, OutOfRangeSignalNumberIsOneLineNamingTheRange) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string id = start_sleeper(cli, "badsig");
  for (const char* sig : {"99999999999", "0", "65", "-1", "TERMX"}) {
    SCOPED_TRACE(sig);
    auto r = cli({"kill", id, sig});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(sig), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("use a name like TERM or KILL, or a number from 1 to 64"),
              std::string::npos)
        << r.err;
  }
  auto big = cli({"kill", id, "99999999999"});
  EXPECT_NE(big.err.find("signal number '99999999999' is out of range: expected 1 to 64"),
            std::string::npos)
      << big.err;
  EXPECT_TRUE(running(cli, id));
}

TEST(BadInput, BadCompressionLevelIsRefusedBeforeAnythingIsDumped) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string id = start_sleeper(cli, "badlevel");
  std::string image = cli.scratch().file("image");
  for (const char* spec : {"zstd:99999999999", "zstd:0", "zstd:x", "zstd:"}) {
    SCOPED_TRACE(spec);
    auto r = cli({"checkpoint", "--compress", spec, "--image-path", image, id});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find("--compress '" + std::string(spec) + "'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("LEVEL 1..19"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(image));
  }
  EXPECT_TRUE(running(cli, id));
}

TEST(BadInput, UnknownVerbIsNamedAndTheVerbsListed) {
  Cli cli;
  auto r = cli({"frobnicate", "x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("'frobnicate' is not a command"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("run, list, state, ps, kill, pause, resume, exec, logs, delete, "
                       "checkpoint, restore, image"),
            std::string::npos)
      << r.err;
  auto typo = cli({"chekpoint", "web1"});
  EXPECT_NE(typo.err.find("did you mean 'checkpoint'?"), std::string::npos) << typo.err;
  auto none = cli({});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_EQ(lines(none.err), 1) << none.err;
  EXPECT_NE(none.err.find("no command given (commands: run, list"), std::string::npos) << none.err;
}

TEST(BadInput, MisspelledFlagIsNamedWithItsCommand) {
  Cli cli;
  auto r = cli({"list", "--jsn"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "crun-ckpt list: unknown option '--jsn'; did you mean '--json'? (see `crun-ckpt "
            "list --help`)\n");
  auto missing = cli({"checkpoint", "web1"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(lines(missing.err), 1) << missing.err;
  EXPECT_NE(missing.err.find("crun-ckpt checkpoint: --image-path is required"), std::string::npos)
      << missing.err;
  // --help is not an error.
  auto help = cli({"list", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Usage:"), std::string::npos);
}

TEST(BadInput, EmptyRootIsRefusedAndNothingIsWrittenAtSlash) {
  CKPT_REQUIRE_ROOT();
  Cli cli;  // only for its scratch directory: --root is given by hand below
  std::string id = unique_name("emptyroot");
  std::string spec = write_spec(cli, id, {"/bin/sleep", "600"});
  struct Cleanup {
    std::string id;
    ~Cleanup() {
      // What the bug did: state at /ID. Remove it and the container if it happened.
      run_command({binary(), "--root", "/", "delete", "-f", id});
      remove_tree("/" + id);
    }
  } cleanup{id};
  auto r = run_command({binary(), "--root", "", "run", "-d", spec});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("--root is empty"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--root /run/crun-ckpt"), std::string::npos) << r.err;
  struct stat st;
  EXPECT_NE(::stat(("/" + id).c_str(), &st), 0) << "state was written to /" << id;
  EXPECT_NO_LEFTOVERS(cli, id);
}

// An image of a running sleeper, left running; returns the image path.
std::string take_image(Cli& cli, const std::string& id, const std::string& name) {
  std::string image = cli.scratch().file(name);
  auto r = cli({"checkpoint", "--leave-running", "--image-path", image, id}, seconds(120));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return image;
}

std::vector<std::string> members(const std::string& image) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(image))
    out.push_back(e.path().filename());
  return out;
}

// `image verify` and `restore` of `image` are refused in one line containing `expected`, and
// the refused restore leaves nothing.
void expect_refused(Cli& cli, const std::string& image, const std::string& expected) {
  auto v = cli({"image", "verify", image}, seconds(30));
  EXPECT_EQ(v.exit_code, 1) << v.out << v.err;
  EXPECT_EQ(lines(v.err), 1) << v.err;
  EXPECT_NE(v.err.find(expected), std::string::npos) << v.err;
  std::string copy = unique_name("copy");
  cli.track(copy);
  auto r = cli({"restore", "-d", "--image-path", image, "--name", copy}, seconds(30));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
  EXPECT_NO_LEFTOVERS(cli, copy);
}

TEST(BadInput, ImageMemberThatIsASymlinkIsRefusedNamingIt) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string id = start_sleeper(cli, "imglink");
  std::string image = take_image(cli, id, "image");
  // Every member moved out of the image and linked back: the bytes are the same, so only
  // refusing links catches it.
  TempDir outside("ckpt-outside");
  for (const auto& name : members(image)) {
    if (name == "manifest.json" || name == "manifest.sum") continue;
    std::filesystem::rename(image + "/" + name, outside.file(name));
    std::filesystem::create_symlink(outside.file(name), image + "/" + name);
  }
  expect_refused(cli, image, "is a symbolic link, not a regular file");
  EXPECT_TRUE(running(cli, id));
}

TEST(BadInput, ManifestLinkedToAFifoDoesNotHang) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string id = start_sleeper(cli, "imgfifo");
  std::string image = take_image(cli, id, "image");
  TempDir outside("ckpt-outside");
  ASSERT_EQ(::mkfifo(outside.file("fifo").c_str(), 0600), 0);
  std::filesystem::remove(image + "/manifest.json");
  std::filesystem::create_symlink(outside.file("fifo"), image + "/manifest.json");
  // Before the fix both blocked in open(2) until the timeout killed them.
  expect_refused(cli, image, "image " + image + ": manifest.json is a symbolic link");
  std::filesystem::remove(image + "/manifest.json");
  ASSERT_EQ(::mkfifo((image + "/manifest.json").c_str(), 0600), 0);
  expect_refused(cli, image, "image " + image + ": manifest.json is a FIFO, not a regular file");
}

// Rewrites an image's manifest consistently (manifest.sum matches), as a tool or a copy from
// another host would.
void rewrite_manifest(const std::string& image, const std::function<void(nlohmann::json&)>& edit) {
  auto doc = nlohmann::json::parse(slurp(image + "/manifest.json"));
  edit(doc);
  std::string text = doc.dump(2) + "\n";
  std::ofstream(image + "/manifest.json", std::ios::trunc) << text;
  std::ofstream(image + "/manifest.sum", std::ios::trunc) << image::xxh128_hex(text) << "\n";
}

TEST(BadInput, ImageWithNumbersThatDoNotFitIsRefusedAndLeavesNothing) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string id = start_sleeper(cli, "imgnum");
  struct Case {
    const char* name;
    std::function<void(nlohmann::json&)> edit;
    std::string expected;
  };
  std::vector<Case> cases = {
      {"pid",
       [](nlohmann::json& d) { d["body"]["checkpoint"]["processes"][0]["pid"] = 99999999999ULL; },
       "key 'pid' 99999999999 is out of range"},
      {"clock",
       [](nlohmann::json& d) { d["body"]["clocks"]["monotonic_ns"] = 18446744073709551615ULL; },
       "clocks.monotonic_ns 18446744073709551615 is not a signed 64-bit integer"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::string image = take_image(cli, id, std::string("image-") + c.name);
    rewrite_manifest(image, c.edit);
    std::string copy = unique_name("copy");
    cli.track(copy);
    auto r = cli({"restore", "-d", "--image-path", image, "--name", copy}, seconds(60));
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(c.expected), std::string::npos) << r.err;
    EXPECT_NO_LEFTOVERS(cli, copy);
  }
  EXPECT_TRUE(running(cli, id));
}

TEST(BadInput, ImageFromAnotherArchitectureIsRefusedAndLeavesNothing) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string id = start_sleeper(cli, "imgarch");
  std::string image = take_image(cli, id, "image");
  struct utsname uts {};
  ::uname(&uts);
  std::string other = std::string(uts.machine) == "aarch64" ? "x86_64" : "aarch64";
  rewrite_manifest(image, [&](nlohmann::json& doc) { doc["arch"] = other; });

  auto v = cli({"image", "verify", image});
  EXPECT_EQ(v.exit_code, 0) << "verify checks integrity, which is intact: " << v.err;
  std::string copy = unique_name("copy");
  cli.track(copy);
  auto r = cli({"restore", "-d", "--image-path", image, "--name", copy}, seconds(60));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("was taken on " + other + ", this host is " + uts.machine),
            std::string::npos)
      << r.err;
  EXPECT_NO_LEFTOVERS(cli, copy);
  EXPECT_TRUE(running(cli, id));
}

}  // namespace
}  // namespace ckpt::test
