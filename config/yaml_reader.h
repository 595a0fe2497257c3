// Strict typed access to a yaml-cpp tree for spec_yaml.cc: every map is checked for unknown
// and duplicate keys, every scalar for its type, and every error carries
// "FILE:LINE:COL: KEY" (yaml-cpp marks are 0-based; messages are 1-based). The document also
// remembers where each key was written, so that checks made later on the typed spec
// (spec_validate.h) can point at the right line.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace ckpt::config {

class YamlDoc {
 public:
  explicit YamlDoc(std::string file) : file_(std::move(file)) {}

  // "web.yaml:12:13: resources.memory"
  std::string where(const YAML::Mark& mark, const std::string& key) const;
  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& key, std::string problem,
                         std::string hint = {}) const;
  // Records the position of `key` for locate().
  void remember(const std::string& key, const YAML::Mark& mark);
  // where() of the key, or of its nearest remembered parent ("mounts[1].source" falls back to
  // "mounts[1]", then "mounts"), or of the top of the file.
  std::string locate(const std::string& key) const;
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::map<std::string, YAML::Mark> marks_;
};

// The mark to report for a node: a null value (`key:` with nothing after it) has the mark of
// whatever follows, so the key's own mark is used instead.
YAML::Mark mark_of(const YAML::Node& value, const YAML::Mark& fallback);

class YamlMap {
 public:
  // Throws unless `node` is a map whose keys are all in `known`, each written once.
  YamlMap(YamlDoc& doc, const YAML::Node& node, const YAML::Mark& mark, std::string key,
          std::initializer_list<const char*> known);

  bool has(const std::string& name) const { return values_.count(name) != 0; }
  // The dotted key of a child: "process" + "args" -> "process.args".
  std::string key(const std::string& name) const { return key_.empty() ? name : key_ + "." + name; }
  const YAML::Node& node(const std::string& name) const { return values_.at(name).first; }
  const YAML::Mark& mark(const std::string& name) const { return values_.at(name).second; }
  const YAML::Mark& own_mark() const { return mark_; }

  std::string str(const std::string& name) const;
  uint64_t uint(const std::string& name, uint64_t max) const;
  bool boolean(const std::string& name) const;
  double number(const std::string& name) const;
  std::vector<std::string> str_list(const std::string& name) const;

  // Calls fn(item, mark, "key[i]") for each item of a sequence child.
  void for_each(const std::string& name,
                const std::function<void(const YAML::Node&, const YAML::Mark&, const std::string&)>&
                    fn) const;
  // Runs a conversion from parse_values.h on a string child, locating its error.
  template <typename Fn>
  auto convert(const std::string& name, Fn&& fn) const {
    std::string text = str(name);
    try {
      return fn(text);
    } catch (Error& e) {
      e.context(doc_.where(mark(name), key(name)));
      throw;
    }
  }

  YamlDoc& doc() const { return doc_; }

 private:
  YamlDoc& doc_;
  std::string key_;
  YAML::Mark mark_;
  std::map<std::string, std::pair<YAML::Node, YAML::Mark>> values_;
};

// Scalar readers for nodes that are not map children (sequence items).
std::string yaml_str(const YamlDoc& doc, const YAML::Node& n, const YAML::Mark& mark,
                     const std::string& key);
uint64_t yaml_uint(const YamlDoc& doc, const YAML::Node& n, const YAML::Mark& mark,
                   const std::string& key, uint64_t max);

}  // namespace ckpt::config
