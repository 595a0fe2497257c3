// Strict typed access to an nlohmann::json tree, shared by the JSON form of the spec
// (spec_json.cc, keys written "process.args[0]") and the OCI reader (oci.cc, keys written as
// JSON pointers "/process/args/0", prefixed by the file). Unknown keys and wrong types throw
// ckpt::Error with the key as context.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ckpt::config {

class JsonPath {
 public:
  enum class Style { dotted, pointer };
  JsonPath(Style style, std::string file) : style_(style), file_(std::move(file)) {}

  JsonPath child(const std::string& name) const;
  JsonPath item(size_t index) const;
  // "process.args[0]", or "config.json: /process/args/0".
  std::string str() const;
  [[noreturn]] void fail(std::string problem, std::string hint = {}) const;

 private:
  Style style_;
  std::string file_;
  std::string key_;
};

class JsonObj {
 public:
  // Throws unless `j` is an object whose keys are all in `known`; `unknown` is the problem
  // reported for any other key (the OCI reader says "is not supported by crun-ckpt").
  JsonObj(const nlohmann::json& j, JsonPath path, std::initializer_list<const char*> known,
          const char* unknown = "unknown key");

  bool has(const std::string& name) const { return j_.contains(name) && !j_.at(name).is_null(); }
  const nlohmann::json& at(const std::string& name) const { return j_.at(name); }
  JsonPath path(const std::string& name) const { return path_.child(name); }
  const JsonPath& path() const { return path_; }
  const nlohmann::json& require(const std::string& name) const;

  std::string str(const std::string& name) const;
  uint64_t uint(const std::string& name, uint64_t max) const;
  int64_t int64(const std::string& name) const;
  bool boolean(const std::string& name) const;
  double number(const std::string& name) const;
  std::vector<std::string> str_list(const std::string& name) const;
  // The array child, checked to be one.
  const nlohmann::json& array(const std::string& name) const;

 private:
  const nlohmann::json& j_;
  JsonPath path_;
};

std::string json_str(const nlohmann::json& j, const JsonPath& path);
uint64_t json_uint(const nlohmann::json& j, const JsonPath& path, uint64_t max);

// Parses text, turning a syntax error into "FILE:LINE:COL: invalid JSON: ...".
nlohmann::json parse_json_text(const std::string& text, const std::string& file);

}  // namespace ckpt::config
