// Compression::none streams. The dump writes process memory in multi-MiB chunks and must keep
// pace with dd on the same file system, so large writes go to write(2) straight from the
// caller's buffer (no copy) and only small ones are gathered into a large buffer. XXH3 runs at
// tens of GB/s, well above page-cache write speed, so hashing inline costs little. Reading
// offers view(): the restore takes the bytes straight from a mapping of the file and copies
// them once, into the target, instead of read(2) into a buffer and then into the target.
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "image/stored_file.h"
#include "image/stream.h"

namespace ckpt::image {

namespace {

constexpr size_t kBufferSize = 4u << 20;  // matches the 4 MiB blocks dd-like writers use
constexpr size_t kDirectWrite = 1u << 20;

class RawStreamWriter final : public BufferedStreamWriter {
 public:
  RawStreamWriter(UniqueFd fd, std::string label)
      : BufferedStreamWriter(std::move(fd), std::move(label), Compression::none) {}

  void write(const void* data, size_t len) override {
    check_open();
    if (len >= kDirectWrite) {
      flush();
      out_.write(data, len);
    } else {
      if (buffer_.empty()) buffer_.resize(kBufferSize);
      if (used_ + len > buffer_.size()) flush();
      std::memcpy(buffer_.data() + used_, data, len);
      used_ += len;
    }
    raw_ += len;
  }

  void finish() override {
    if (!finished_) finish_stored();
  }
};

class RawStreamReader final : public StreamReader {
 public:
  RawStreamReader(UniqueFd fd, std::string label, const FileRecord& record)
      : in_(std::move(fd), std::move(label), record.size, record.xxh128) {}

  void read(void* data, size_t len) override {
    check_room(len);
    in_.read_some(data, len);
  }

  const char* view(size_t len) override {
    check_room(len);
    size_t got = len;
    const char* p = in_.map_some(got);
    // check_room() guarantees the manifest's size covers len; map_some() checked the disk.
    return p;
  }

  void skip(size_t len) override {
    check_room(len);
    // Skipped bytes are still read: the checksum covers every stored byte.
    if (scratch_.empty()) scratch_.resize(kDirectWrite);
    while (len > 0) {
      size_t n = std::min(len, scratch_.size());
      in_.read_some(scratch_.data(), n);
      len -= n;
    }
  }

  void finish() override { in_.finish(); }

 private:
  void check_room(size_t len) const {
    if (len > in_.remaining()) {
      throw file_error(in_.label(),
                       "asked for " + std::to_string(len) + " bytes at byte " +
                           std::to_string(in_.offset()) + " but the stream has " +
                           std::to_string(in_.size()),
                       "the image does not match its own index; take the checkpoint again");
    }
  }

  StoredFileReader in_;
  std::vector<char> scratch_;
};

}  // namespace

std::unique_ptr<FileStreamWriter> make_raw_stream_writer(UniqueFd fd, std::string label) {
  return std::make_unique<RawStreamWriter>(std::move(fd), std::move(label));
}

std::unique_ptr<StreamReader> make_raw_stream_reader(UniqueFd fd, std::string label,
                                                     const FileRecord& record) {
  return std::make_unique<RawStreamReader>(std::move(fd), std::move(label), record);
}

}  // namespace ckpt::image
