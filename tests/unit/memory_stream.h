// Image streams in memory, for tests of what is encoded into streams (tree archives): a writer
// that collects the bytes and a reader that serves them and refuses to read past the end.
#pragma once

#include <cstring>
#include <string>

#include "common/error.h"
#include "image/image.h"

namespace ckpt::image::image_test {

class MemoryWriter final : public StreamWriter {
 public:
  void write(const void* data, size_t len) override {
    bytes.append(static_cast<const char*>(data), len);
  }
  void finish() override {}
  uint64_t raw_bytes() const override { return bytes.size(); }
  uint64_t stored_bytes() const override { return bytes.size(); }
  std::string bytes;
};

class MemoryReader final : public StreamReader {
 public:
  explicit MemoryReader(std::string bytes) : bytes_(std::move(bytes)) {}
  void read(void* data, size_t len) override {
    if (len > bytes_.size() - at_)
      throw Error("asked for " + std::to_string(len) + " bytes at byte " + std::to_string(at_) +
                  " of a " + std::to_string(bytes_.size()) + "-byte stream");
    std::memcpy(data, bytes_.data() + at_, len);
    at_ += len;
  }
  void skip(size_t len) override {
    std::string tmp(len, '\0');
    read(tmp.data(), len);
  }
  void finish() override {
    if (at_ != bytes_.size()) throw Error("bytes after the end");
  }

 private:
  std::string bytes_;
  size_t at_ = 0;
};

}  // namespace ckpt::image::image_test
