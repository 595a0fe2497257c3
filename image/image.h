// The checkpoint image: one directory, written atomically, every file checksummed.
//
//   DIR/
//     manifest.json   magic, format_version, kernel, arch, cpu features, the engine's body
//                     (process tree, spec, ...) and {name: {size, xxh128}} for every other file
//     manifest.sum    xxh128 of manifest.json (so a flipped byte in the manifest is caught too)
//     <streams>       bulk data (memory pages), raw or zstd frames, checksummed as stored
//     <files>         small metadata blobs, checksummed
//
// Writing goes into a hidden sibling directory that is renamed over DIR only after every file
// and the directory are fsynced: a reader never sees a partial image at DIR. A writer destroyed
// before commit() removes its temporary directory; one that was killed leaves it locked by no
// one, and the next writer for DIR removes it (image/partial.h). DIR must not be a symlink.
// Compatibility rule: a reader accepts format_version <= kFormatVersion and refuses newer ones with
// a message that says so. This library makes no process-level syscalls: only file I/O.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace ckpt::image {

constexpr const char* kMagic = "crun-ckpt-image";
constexpr uint32_t kFormatVersion = 1;

enum class Compression { none, zstd };

struct CompressionSpec {
  Compression kind = Compression::zstd;
  int level = 1;
  int threads = 0;  // zstd worker threads; 0 = one per online CPU
};
// Parses "none", "zstd" or "zstd:LEVEL" (1..19); throws ckpt::Error with a hint otherwise.
CompressionSpec parse_compression(const std::string& text);

// Sequential writer of one bulk stream. Data is compressed (if asked) and checksummed as it is
// written; finish() is called by ImageWriter::commit() if the caller did not.
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  virtual void write(const void* data, size_t len) = 0;
  virtual void finish() = 0;
  virtual uint64_t raw_bytes() const = 0;     // bytes given to write()
  virtual uint64_t stored_bytes() const = 0;  // bytes on disk so far
};

class StreamReader {
 public:
  virtual ~StreamReader() = default;
  // Reads exactly len bytes of the decompressed stream or throws (truncated, corrupt).
  virtual void read(void* data, size_t len) = 0;
  // The next len bytes without copying them, where the encoding allows it (raw streams map
  // their file); checked against the checksum like read(), and valid until the reader is
  // destroyed. nullptr (nothing consumed) where it does not: use read() then.
  virtual const char* view(size_t len) { return (void)len, nullptr; }
  // Skips len decompressed bytes.
  virtual void skip(size_t len) = 0;
  // Checks that the stream is at its end and the stored bytes match their checksum.
  virtual void finish() = 0;
};

class ImageWriter {
 public:
  // `dir` must not exist, or be an empty directory. Created with mode 0700; files are 0600.
  explicit ImageWriter(std::string dir);
  ImageWriter(const ImageWriter&) = delete;
  ImageWriter& operator=(const ImageWriter&) = delete;
  ~ImageWriter();  // removes the temporary directory unless committed

  void add_file(const std::string& name, std::string_view bytes);
  // The returned stream stays owned by the writer; valid until commit().
  StreamWriter& open_stream(const std::string& name, CompressionSpec compression);

  // Writes the manifest with `body` under "body", fsyncs everything, renames into place.
  void commit(const nlohmann::json& body);
  // Takes a committed image back when the caller's own check of it failed: DIR is renamed back
  // to the hidden partial name in one step (no reader sees a half-removed image), then removed.
  void withdraw();

  const std::string& dir() const { return dir_; }
  uint64_t stored_bytes() const;  // everything written so far

 private:
  struct Impl;
  std::string dir_;
  std::unique_ptr<Impl> impl_;
};

class ImageReader {
 public:
  // Reads and checks manifest.json (magic, checksum, format version). Throws ckpt::Error naming
  // the file and what is wrong ("image DIR: manifest.json: checksum mismatch (flipped or
  // truncated); the image cannot be trusted").
  explicit ImageReader(std::string dir);
  ~ImageReader();

  const nlohmann::json& manifest() const;
  const nlohmann::json& body() const;
  std::vector<std::string> files() const;

  std::string read_file(const std::string& name) const;  // verified
  std::unique_ptr<StreamReader> open_stream(const std::string& name) const;
  // Verifies size and checksum of every file; throws on the first bad one, naming it.
  void verify_all() const;
  // Refuses an image taken on another architecture than this host's (manifest "arch"): a
  // restore calls it first. Reading (inspect, verify) works on any image.
  void check_host_arch() const;

  const std::string& dir() const { return dir_; }

 private:
  struct Impl;
  std::string dir_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ckpt::image
