// What the CLI says when the command line itself is wrong, in the one-line form of every other
// error: CLI11's own texts ("A subcommand is required", "The following argument was not
// expected: --jsn") name neither the command nor the word, and print a second line.
//
//   crun-ckpt: 'kll' is not a command; did you mean 'kill'? (commands: run, list, ...)
//   crun-ckpt list: unknown option '--jsn'; did you mean '--json'? (see `crun-ckpt list --help`)
//
// Also the checks of the global options that CLI11 cannot express (--root).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace ckpt::cli {

// The exit status of a refused command line, as for getopt-style tools (2: usage error).
constexpr int kUsageExitStatus = 2;

// The one line for a command line `app` refused with `e` (after app.parse() threw it).
std::string usage_error(const CLI::App& app, const CLI::ParseError& e);

// The candidate closest to `word` by edit distance, if close enough to be a typo; "" if none.
std::string closest(std::string_view word, const std::vector<std::string>& candidates);

// --root as the commands use it: an absolute, normalized path. An empty one is refused (it
// would put state at /NAME); a relative one is made absolute against the current directory
// here, once, because the detached monitor and later commands run from other directories.
std::string resolve_state_root(const std::string& root);

}  // namespace ckpt::cli
