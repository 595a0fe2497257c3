// Helpers shared by the image_*_test.cc files: a private temporary directory and byte-level
// surgery on image files (flip, truncate, rewrite the manifest with a matching sum).
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <string>

#include "common/error.h"
#include "common/file_util.h"
#include "image/checksum.h"

namespace ckpt::image::image_test {

// mkdtemp under $TMPDIR (or /tmp), removed with everything in it on scope exit.
class TempDir {
 public:
  TempDir() {
    const char* base = ::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/image-test-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp " + tmpl);
    path_ = tmpl;
  }
  ~TempDir() {
    try {
      remove_tree(path_);
    } catch (...) {
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Deterministic bytes that zstd cannot shrink.
inline std::string random_bytes(size_t n, uint32_t seed = 1) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(gen());
  return out;
}

// Text-like bytes that zstd shrinks a lot but not trivially.
inline std::string compressible_bytes(size_t n) {
  std::string out;
  out.reserve(n + 64);
  for (uint64_t i = 0; out.size() < n; ++i) {
    out += "line " + std::to_string(i % 977) + ": the quick brown fox jumps over the lazy dog\n";
  }
  out.resize(n);
  return out;
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  UniqueFd fd = open_file(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  write_full(fd.get(), bytes.data(), bytes.size(), path);
}

inline void flip_byte(const std::string& path, off_t offset) {
  UniqueFd fd = open_file(path, O_RDWR);
  unsigned char c;
  if (::pread(fd.get(), &c, 1, offset) != 1) throw std::runtime_error("pread " + path);
  c ^= 0x5a;
  if (::pwrite(fd.get(), &c, 1, offset) != 1) throw std::runtime_error("pwrite " + path);
}

inline off_t file_size(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) < 0) throw std::runtime_error("stat " + path);
  return st.st_size;
}

// Edits manifest.json and writes a manifest.sum that matches, as a tool (or an attacker)
// rewriting the image consistently would.
inline void rewrite_manifest(const std::string& dir,
                             const std::function<void(nlohmann::json&)>& edit) {
  nlohmann::json doc = nlohmann::json::parse(read_file(dir + "/manifest.json"));
  edit(doc);
  std::string text = doc.dump(2) + "\n";
  write_bytes(dir + "/manifest.json", text);
  write_bytes(dir + "/manifest.sum", xxh128_hex(text) + "\n");
}

// Runs fn, expects a ckpt::Error, returns its text.
template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ckpt::Error thrown";
  return {};
}

}  // namespace ckpt::image::image_test
