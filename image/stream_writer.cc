#include <utility>

#include "image/stream.h"

namespace ckpt::image {

BufferedStreamWriter::BufferedStreamWriter(UniqueFd fd, std::string label, Compression kind)
    : out_(std::move(fd), std::move(label)), kind_(kind) {}

FileRecord BufferedStreamWriter::record() const {
  FileRecord r;
  r.size = out_.bytes();
  r.xxh128 = out_.hex();
  r.raw_size = raw_;
  r.compression = kind_;
  r.stream = true;
  return r;
}

void BufferedStreamWriter::check_open() const {
  if (finished_) throw file_error(out_.label(), "stream written after finish()");
}

void BufferedStreamWriter::flush() {
  if (used_ == 0) return;
  out_.write(buffer_.data(), used_);
  used_ = 0;
}

void BufferedStreamWriter::finish_stored() {
  flush();
  out_.finish();
  finished_ = true;
  std::vector<char>().swap(buffer_);
}

}  // namespace ckpt::image
