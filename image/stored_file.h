// Internal to image/: sequential I/O on one stored file with its checksum computed on the fly.
// Both stream kinds (raw and zstd) and plain files go through these, so size and checksum
// checks, and the messages that name the image, the file and the byte, exist once.
#pragma once

#include <cstdint>
#include <string>

#include "common/error.h"
#include "common/unique_fd.h"
#include "image/checksum.h"

namespace ckpt::image {

// An Error about one file of an image: "image DIR: NAME: what (hint)". `label` is
// "image DIR: NAME".
Error file_error(const std::string& label, std::string what, std::string hint = {});

class StoredFileWriter {
 public:
  StoredFileWriter(UniqueFd fd, std::string label);

  void write(const void* data, size_t len);
  // fsyncs and closes the file; the checksum and size stay readable.
  void finish();

  uint64_t bytes() const { return bytes_; }
  std::string hex() const { return sum_.hex(); }
  const std::string& label() const { return label_; }

 private:
  UniqueFd fd_;
  std::string label_;
  Xxh128 sum_;
  uint64_t bytes_ = 0;
  uint64_t writeback_from_ = 0;  // sync_file_range() has started writeback below this
};

class StoredFileReader {
 public:
  // Refuses at once a file whose size on disk differs from `size` (the manifest's).
  StoredFileReader(UniqueFd fd, std::string label, uint64_t size, std::string xxh128);

  ~StoredFileReader();
  StoredFileReader(const StoredFileReader&) = delete;
  StoredFileReader& operator=(const StoredFileReader&) = delete;

  // Reads up to `len` bytes; fewer only at the end the manifest gives; 0 once there.
  // Throws, naming the byte offset, if the file ends earlier (truncated while open).
  size_t read_some(void* buf, size_t len);
  // Like read_some, without copying: the next `len` bytes (fewer only at the end) through a
  // read-only mapping of the whole file, checksummed as they are passed. They stay mapped until
  // the reader is destroyed. Mixes freely with read_some (both read at offset()).
  const char* map_some(size_t& len);
  // Verifies that nothing follows on disk and that the checksum matches.
  void finish();

  uint64_t offset() const { return offset_; }
  uint64_t size() const { return size_; }
  uint64_t remaining() const { return size_ - offset_; }
  const std::string& label() const { return label_; }

 private:
  UniqueFd fd_;
  std::string label_;
  uint64_t size_;
  std::string expected_;
  Xxh128 sum_;
  uint64_t offset_ = 0;
  void* map_ = nullptr;  // the whole file once map_some() was called; unmapped by the destructor
};

}  // namespace ckpt::image
