#include "config/json_reader.h"

#include <cmath>
#include <set>

#include "common/error.h"

namespace ckpt::config {
namespace {

const char* kind(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::number_float:
      return "a fraction";
    case nlohmann::json::value_t::number_integer:
      return j.get<int64_t>() < 0 ? "a negative integer" : "an integer";
    case nlohmann::json::value_t::number_unsigned:
      return "an integer";
    default:
      return "something else";
  }
}

// RFC 6901 escaping of a pointer segment.
std::string escape_pointer(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

}  // namespace

JsonPath JsonPath::child(const std::string& name) const {
  JsonPath p = *this;
  if (style_ == Style::pointer)
    p.key_ += "/" + escape_pointer(name);
  else
    p.key_ += (key_.empty() ? "" : ".") + name;
  return p;
}

JsonPath JsonPath::item(size_t index) const {
  JsonPath p = *this;
  if (style_ == Style::pointer)
    p.key_ += "/" + std::to_string(index);
  else
    p.key_ += "[" + std::to_string(index) + "]";
  return p;
}

std::string JsonPath::str() const {
  std::string key = style_ == Style::pointer && key_.empty() ? "/" : key_;
  if (file_.empty()) return key;
  return key.empty() ? file_ : file_ + ": " + key;
}

void JsonPath::fail(std::string problem, std::string hint) const {
  Error e(std::move(problem), 0, std::move(hint));
  std::string where = str();
  if (!where.empty()) e.context(where);
  throw e;
}

JsonObj::JsonObj(const nlohmann::json& j, JsonPath path, std::initializer_list<const char*> known,
                 const char* unknown)
    : j_(j), path_(std::move(path)) {
  if (!j.is_object()) path_.fail(std::string("expected an object, found ") + kind(j));
  std::set<std::string> allowed(known.begin(), known.end());
  for (const auto& [name, value] : j.items()) {
    if (!allowed.count(name)) {
      std::string list;
      for (const char* n : known) list += (list.empty() ? "" : ", ") + std::string(n);
      path_.child(name).fail(unknown, "known keys here: " + list);
    }
  }
}

const nlohmann::json& JsonObj::require(const std::string& name) const {
  if (!has(name)) path(name).fail("is required");
  return at(name);
}

std::string JsonObj::str(const std::string& name) const {
  return json_str(at(name), path(name));
}

uint64_t JsonObj::uint(const std::string& name, uint64_t max) const {
  return json_uint(at(name), path(name), max);
}

int64_t JsonObj::int64(const std::string& name) const {
  const auto& v = at(name);
  if (v.is_number_integer() && (!v.is_number_unsigned() || v.get<uint64_t>() <= INT64_MAX)) {
    return v.get<int64_t>();
  }
  path(name).fail(std::string("expected an integer, found ") + kind(v));
}

bool JsonObj::boolean(const std::string& name) const {
  const auto& v = at(name);
  if (!v.is_boolean()) path(name).fail(std::string("expected true or false, found ") + kind(v));
  return v.get<bool>();
}

double JsonObj::number(const std::string& name) const {
  const auto& v = at(name);
  if (!v.is_number() || !std::isfinite(v.get<double>())) {
    path(name).fail(std::string("expected a number, found ") + kind(v));
  }
  return v.get<double>();
}

std::vector<std::string> JsonObj::str_list(const std::string& name) const {
  std::vector<std::string> out;
  const auto& a = array(name);
  for (size_t i = 0; i < a.size(); ++i) out.push_back(json_str(a[i], path(name).item(i)));
  return out;
}

const nlohmann::json& JsonObj::array(const std::string& name) const {
  const auto& v = at(name);
  if (!v.is_array()) path(name).fail(std::string("expected an array, found ") + kind(v));
  return v;
}

std::string json_str(const nlohmann::json& j, const JsonPath& path) {
  if (!j.is_string()) path.fail(std::string("expected a string, found ") + kind(j));
  const auto& s = j.get_ref<const std::string&>();
  // execve(2) and mount(2) take C strings: a NUL would silently cut the value.
  if (s.find('\0') != std::string::npos) path.fail("contains a NUL byte");
  return s;
}

uint64_t json_uint(const nlohmann::json& j, const JsonPath& path, uint64_t max) {
  if (!j.is_number_unsigned() && !(j.is_number_integer() && j.get<int64_t>() >= 0)) {
    path.fail(std::string("expected a non-negative integer, found ") + kind(j));
  }
  uint64_t v = j.get<uint64_t>();
  if (v > max) path.fail(std::to_string(v) + " is too large", "at most " + std::to_string(max));
  return v;
}

nlohmann::json parse_json_text(const std::string& text, const std::string& file) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is 1-based and points just past the offending character.
    size_t end = std::min<size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
    size_t line = 1, column = 1;
    for (size_t i = 0; i < end; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    std::string msg = e.what();
    size_t cut = msg.find(": ", msg.find("parse error"));
    if (cut != std::string::npos) msg = msg.substr(cut + 2);
    throw Error("invalid JSON: " + msg)
        .context(file + ":" + std::to_string(line) + ":" + std::to_string(column));
  }
}

}  // namespace ckpt::config
