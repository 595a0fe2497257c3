#include "runtime/cli/usage.h"

#include <algorithm>
#include <filesystem>

#include "common/error.h"

namespace ckpt::cli {

namespace {

// The command and its parsed subcommands: crun-ckpt, image, verify.
std::vector<const CLI::App*> parsed_chain(const CLI::App& app) {
  std::vector<const CLI::App*> chain = {&app};
  for (;;) {
    std::vector<CLI::App*> subs = chain.back()->get_subcommands();
    if (subs.empty()) return chain;
    chain.push_back(subs.front());
  }
}

// "crun-ckpt image verify" for the chain up to and including chain[last].
std::string command_name(const std::vector<const CLI::App*>& chain, size_t last) {
  std::string out;
  for (size_t i = 0; i <= last; ++i) out += (i ? " " : "") + chain[i]->get_name();
  return out;
}

// Subcommands a user may type (hidden ones have an empty group).
std::vector<std::string> verbs(const CLI::App& app) {
  std::vector<std::string> out;
  for (const CLI::App* sub :
       app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); }))
    out.push_back(sub->get_name());
  return out;
}

// "--json", "-q", "--quiet" of the visible options.
std::vector<std::string> option_names(const CLI::App& app) {
  std::vector<std::string> out;
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->get_group().empty()) continue;
    for (const auto& l : opt->get_lnames()) out.push_back("--" + l);
    for (const auto& s : opt->get_snames()) out.push_back("-" + s);
  }
  return out;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best = closest(word, candidates);
  return best.empty() ? "" : "; did you mean '" + best + "'?";
}

std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
// adjacent letters ("roto" is one edit from "root"), the common typos.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

// What is wrong with `word`, typed where `app` expected its arguments.
std::string about_word(const CLI::App& app, const std::string& where, const std::string& word,
                       bool expects_command) {
  if (word.size() > 1 && word[0] == '-') {
    return where + ": unknown option '" + word + "'" + did_you_mean(word, option_names(app)) +
           " (see `" + where + " --help`)";
  }
  if (expects_command) {
    return where + ": '" + word + "' is not a command" + did_you_mean(word, verbs(app)) +
           " (commands: " + join(verbs(app)) + ")";
  }
  return where + ": unexpected argument '" + word + "' (see `" + where + " --help`)";
}

}  // namespace

std::string closest(std::string_view word, const std::vector<std::string>& candidates) {
  auto bare = [](std::string_view w) {
    return w.substr(std::min(w.find_first_not_of('-'), w.size()));
  };
  std::string best;
  size_t best_distance = 0;
  for (const auto& c : candidates) {
    size_t d = edit_distance(bare(word), bare(c));
    if (best.empty() || d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  // Up to two edits (a dropped and a swapped letter), and fewer than half the word: "-x" is no
  // typo of "-h", nor "pz" of "ps".
  bool typo = !best.empty() && best_distance <= 2 && 2 * best_distance < bare(word).size();
  return typo ? best : "";
}

std::string usage_error(const CLI::App& app, const CLI::ParseError& e) {
  std::vector<const CLI::App*> chain = parsed_chain(app);
  const CLI::App& deepest = *chain.back();
  bool wants_command = !verbs(deepest).empty();

  // Words nobody took: on the first app of the chain that kept some (CLI11 leaves an unknown
  // word with the command it was typed after).
  for (size_t i = 0; i < chain.size(); ++i) {
    std::vector<std::string> words = chain[i]->remaining();
    if (words.empty()) continue;
    bool command_expected = i + 1 == chain.size() && wants_command;
    return about_word(*chain[i], command_name(chain, i), words.front(), command_expected);
  }
  std::string where = command_name(chain, chain.size() - 1);
  if (wants_command) return where + ": no command given (commands: " + join(verbs(deepest)) + ")";
  return where + ": " + one_line(e.what()) + " (see `" + where + " --help`)";
}

std::string resolve_state_root(const std::string& root) {
  if (root.empty()) {
    throw Error("--root is empty", 0,
                "give the directory for container state, e.g. --root /run/crun-ckpt");
  }
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(root, ec);
  if (ec) throw Error("--root '" + root + "': cannot make it absolute", ec.value());
  std::string out = absolute.lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

}  // namespace ckpt::cli
