// Where the restore reads bulk bytes from: the page streams and register files the model
// names. An interface so tests can restore from memory; ImageReaderSource adapts the real
// image (image/image.h).
#pragma once

#include <memory>
#include <string>

#include "image/image.h"

namespace ckpt::restore {

class ImageSource {
 public:
  virtual ~ImageSource() = default;
  virtual std::string read_file(const std::string& name) const = 0;
  virtual std::unique_ptr<image::StreamReader> open_stream(const std::string& name) const = 0;
};

class ImageReaderSource final : public ImageSource {
 public:
  explicit ImageReaderSource(const image::ImageReader& reader) : reader_(reader) {}
  std::string read_file(const std::string& name) const override { return reader_.read_file(name); }
  std::unique_ptr<image::StreamReader> open_stream(const std::string& name) const override {
    return reader_.open_stream(name);
  }

 private:
  const image::ImageReader& reader_;
};

}  // namespace ckpt::restore
