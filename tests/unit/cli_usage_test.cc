// A command line CLI11 refuses is reported in one line that names the command, the word that
// was wrong and what to type instead; --root is checked before any command runs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "common/error.h"
#include "runtime/cli/command.h"
#include "runtime/cli/usage.h"

namespace ckpt::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Parses `args` with the real crun-ckpt command table; returns the usage line, or "" if the
// command line was accepted.
std::string usage_of(std::vector<std::string> args) {
  CLI::App app{"test", "crun-ckpt"};
  Globals globals;
  Action action;
  add_commands(app, globals, action);
  std::vector<char*> argv = {const_cast<char*>("crun-ckpt")};
  for (auto& a : args) argv.push_back(a.data());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    std::string line = usage_error(app, e);
    EXPECT_EQ(line.find('\n'), std::string::npos) << line;
    return line;
  }
  return "";
}

TEST(CliUsage, UnknownVerbIsNamedWithTheVerbs) {
  std::string line = usage_of({"frobnicate", "x"});
  EXPECT_THAT(line, HasSubstr("crun-ckpt: 'frobnicate' is not a command"));
  EXPECT_THAT(line, HasSubstr("run, list, state, ps, kill, pause, resume, exec, logs, delete, "
                              "checkpoint, restore, image"));
  EXPECT_THAT(line, Not(HasSubstr("did you mean")));
  EXPECT_THAT(usage_of({"chekpoint", "web1"}), HasSubstr("did you mean 'checkpoint'?"));
  EXPECT_THAT(usage_of({"kll", "web1"}), HasSubstr("did you mean 'kill'?"));
}

TEST(CliUsage, NoVerbListsTheVerbs) {
  EXPECT_THAT(usage_of({}), HasSubstr("crun-ckpt: no command given (commands: run, list,"));
  EXPECT_THAT(usage_of({"image"}),
              HasSubstr("crun-ckpt image: no command given (commands: inspect, verify)"));
  EXPECT_THAT(usage_of({"image", "veryfy", "/x"}),
              HasSubstr("crun-ckpt image: 'veryfy' is not a command; did you mean 'verify'?"));
}

TEST(CliUsage, MisspelledOptionIsNamedWithTheCommand) {
  EXPECT_EQ(usage_of({"list", "--jsn"}),
            "crun-ckpt list: unknown option '--jsn'; did you mean '--json'? (see `crun-ckpt "
            "list --help`)");
  EXPECT_THAT(usage_of({"checkpoint", "--leave-runing", "--image-path", "/i", "web1"}),
              HasSubstr("crun-ckpt checkpoint: unknown option '--leave-runing'; did you mean "
                        "'--leave-running'?"));
  EXPECT_THAT(usage_of({"--roto", "/x", "list"}),
              HasSubstr("crun-ckpt: unknown option '--roto'; did you mean '--root'?"));
  EXPECT_EQ(usage_of({"list", "-x"}),
            "crun-ckpt list: unknown option '-x' (see `crun-ckpt list --help`)");
}

TEST(CliUsage, MissingOrExtraArgumentsNameTheCommand) {
  EXPECT_EQ(usage_of({"kill"}), "crun-ckpt kill: id is required (see `crun-ckpt kill --help`)");
  EXPECT_THAT(usage_of({"checkpoint", "web1"}),
              HasSubstr("crun-ckpt checkpoint: --image-path is required"));
  EXPECT_THAT(usage_of({"list", "extra"}),
              HasSubstr("crun-ckpt list: unexpected argument 'extra'"));
}

TEST(CliUsage, GoodCommandLinesAreAccepted) {
  EXPECT_EQ(usage_of({"list", "--json"}), "");
  EXPECT_EQ(usage_of({"kill", "-a", "web1", "KILL"}), "");
  EXPECT_EQ(usage_of({"exec", "web1", "--", "/bin/sh", "-c", "true"}), "");
}

TEST(CliUsage, ClosestOnlySuggestsTypos) {
  EXPECT_EQ(closest("lst", {"list", "ps", "state"}), "list");
  EXPECT_EQ(closest("--jsn", {"--json", "--help"}), "--json");
  EXPECT_EQ(closest("-x", {"-h", "-a"}), "");
  EXPECT_EQ(closest("pz", {"ps"}), "");
  EXPECT_EQ(closest("banana", {"run", "list"}), "");
}

TEST(CliRoot, EmptyIsRefusedAndRelativeIsMadeAbsolute) {
  try {
    resolve_state_root("");
    FAIL() << "an empty --root was accepted";
  } catch (const Error& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("--root is empty"));
    EXPECT_THAT(std::string(e.what()), HasSubstr("--root /run/crun-ckpt"));
  }
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof cwd), nullptr);
  EXPECT_EQ(resolve_state_root("state/./x/"), std::string(cwd) + "/state/x");
  EXPECT_EQ(resolve_state_root("/run//crun-ckpt/"), "/run/crun-ckpt");
  EXPECT_EQ(resolve_state_root("/"), "/");
}

}  // namespace
}  // namespace ckpt::cli
