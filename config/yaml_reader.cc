#include "config/yaml_reader.h"

#include <charconv>
#include <cmath>
#include <set>

#include "config/parse_values.h"

namespace ckpt::config {
namespace {

const char* kind(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return n.Tag() == "!" ? "a quoted string" : "a scalar";
    default:
      return "nothing";
  }
}

// A plain (unquoted) scalar: quoting a number or a boolean makes it a string in YAML.
bool plain_scalar(const YAML::Node& n) {
  return n.IsScalar() && n.Tag() != "!";
}

}  // namespace

std::string YamlDoc::where(const YAML::Mark& mark, const std::string& key) const {
  int line = mark.is_null() ? 1 : mark.line + 1;
  int column = mark.is_null() ? 1 : mark.column + 1;
  std::string out = file_ + ":" + std::to_string(line) + ":" + std::to_string(column);
  return key.empty() ? out : out + ": " + key;
}

void YamlDoc::fail(const YAML::Mark& mark, const std::string& key, std::string problem,
                   std::string hint) const {
  throw Error(std::move(problem), 0, std::move(hint)).context(where(mark, key));
}

void YamlDoc::remember(const std::string& key, const YAML::Mark& mark) {
  marks_[key] = mark;
}

std::string YamlDoc::locate(const std::string& key) const {
  std::string k = key;
  while (!k.empty()) {
    auto it = marks_.find(k);
    if (it != marks_.end()) return where(it->second, key);
    size_t cut = k.find_last_of(".[");
    k = cut == std::string::npos ? std::string() : k.substr(0, cut);
  }
  return where(YAML::Mark::null_mark(), key);
}

YAML::Mark mark_of(const YAML::Node& value, const YAML::Mark& fallback) {
  return value.IsNull() || value.Mark().is_null() ? fallback : value.Mark();
}

YamlMap::YamlMap(YamlDoc& doc, const YAML::Node& node, const YAML::Mark& mark, std::string key,
                 std::initializer_list<const char*> known)
    : doc_(doc), key_(std::move(key)), mark_(mark) {
  if (!node.IsMap()) doc.fail(mark, key_, std::string("expected a map, found ") + kind(node));
  std::set<std::string> allowed(known.begin(), known.end());
  for (const auto& kv : node) {
    const YAML::Node& k = kv.first;
    if (!k.IsScalar()) doc.fail(k.Mark(), key_, "a key must be a string");
    const std::string& name = k.Scalar();
    if (!allowed.count(name)) {
      std::string list;
      for (const char* n : known) list += (list.empty() ? "" : ", ") + std::string(n);
      doc.fail(k.Mark(), this->key(name), "unknown key", "known keys here: " + list);
    }
    if (values_.count(name)) doc.fail(k.Mark(), this->key(name), "is given twice");
    YAML::Mark value_mark = mark_of(kv.second, k.Mark());
    values_.emplace(name, std::make_pair(kv.second, value_mark));
    doc.remember(this->key(name), value_mark);
  }
}

std::string YamlMap::str(const std::string& name) const {
  return yaml_str(doc_, node(name), mark(name), key(name));
}

uint64_t YamlMap::uint(const std::string& name, uint64_t max) const {
  return yaml_uint(doc_, node(name), mark(name), key(name), max);
}

bool YamlMap::boolean(const std::string& name) const {
  const YAML::Node& n = node(name);
  // Only YAML 1.2's true/false: yes/no/on/off are YAML 1.1 surprises.
  if (plain_scalar(n) && (n.Scalar() == "true" || n.Scalar() == "false")) {
    return n.Scalar() == "true";
  }
  doc_.fail(mark(name), key(name),
            "expected true or false, found " +
                (n.IsScalar() ? "'" + n.Scalar() + "'" : std::string(kind(n))));
}

double YamlMap::number(const std::string& name) const {
  const YAML::Node& n = node(name);
  if (plain_scalar(n)) {
    const std::string& s = n.Scalar();
    double value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec == std::errc() && end == s.data() + s.size() && std::isfinite(value)) return value;
  }
  doc_.fail(
      mark(name), key(name),
      "expected a number, found " + (n.IsScalar() ? "'" + n.Scalar() + "'" : std::string(kind(n))),
      "e.g. 1.5");
}

std::vector<std::string> YamlMap::str_list(const std::string& name) const {
  std::vector<std::string> out;
  for_each(name, [&](const YAML::Node& item, const YAML::Mark& m, const std::string& k) {
    out.push_back(yaml_str(doc_, item, m, k));
  });
  return out;
}

void YamlMap::for_each(
    const std::string& name,
    const std::function<void(const YAML::Node&, const YAML::Mark&, const std::string&)>& fn) const {
  const YAML::Node& n = node(name);
  if (!n.IsSequence()) {
    doc_.fail(mark(name), key(name), std::string("expected a list, found ") + kind(n));
  }
  size_t i = 0;
  for (const auto& item : n) {
    std::string k = key(name) + "[" + std::to_string(i++) + "]";
    YAML::Mark m = mark_of(item, mark(name));
    doc_.remember(k, m);
    fn(item, m, k);
  }
}

std::string yaml_str(const YamlDoc& doc, const YAML::Node& n, const YAML::Mark& mark,
                     const std::string& key) {
  if (!n.IsScalar()) doc.fail(mark, key, std::string("expected a string, found ") + kind(n));
  // execve(2) and mount(2) take C strings: a NUL would silently cut the value.
  if (n.Scalar().find('\0') != std::string::npos) doc.fail(mark, key, "contains a NUL byte");
  return n.Scalar();
}

uint64_t yaml_uint(const YamlDoc& doc, const YAML::Node& n, const YAML::Mark& mark,
                   const std::string& key, uint64_t max) {
  if (!plain_scalar(n)) {
    doc.fail(mark, key, std::string("expected an integer, found ") + kind(n));
  }
  try {
    return parse_uint(n.Scalar(), max);
  } catch (Error& e) {
    e.context(doc.where(mark, key));
    throw;
  }
}

}  // namespace ckpt::config
