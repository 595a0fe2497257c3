// Internal to image/: the two stream encodings behind StreamWriter/StreamReader.
//   raw:  the bytes as given, buffered into large writes (or written straight from the
//         caller's buffer when it is large), checksummed on the fly.
//   zstd: one zstd frame (multi-threaded compression, frame checksum on), checksummed as stored.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "image/image.h"
#include "image/manifest.h"
#include "image/stored_file.h"

namespace ckpt::image {

class FileStreamWriter : public StreamWriter {
 public:
  // What the manifest says about this stream; complete after finish().
  virtual FileRecord record() const = 0;
  virtual bool finished() const = 0;
};

// The bookkeeping both encodings share: the stored file, an output buffer, the byte counts and
// the manifest record. Subclasses fill buffer_[0, used_) and call flush() or finish_stored().
class BufferedStreamWriter : public FileStreamWriter {
 public:
  uint64_t raw_bytes() const override { return raw_; }
  uint64_t stored_bytes() const override { return out_.bytes() + used_; }
  bool finished() const override { return finished_; }
  FileRecord record() const override;

 protected:
  BufferedStreamWriter(UniqueFd fd, std::string label, Compression kind);
  void check_open() const;  // throws once the stream is finished
  void flush();             // writes buffer_[0, used_) to the file
  void finish_stored();     // flushes, finishes the checksum, frees the buffer

  StoredFileWriter out_;
  std::vector<char> buffer_;
  size_t used_ = 0;
  uint64_t raw_ = 0;
  bool finished_ = false;

 private:
  Compression kind_;
};

// `label` is "image DIR: NAME", the context of every error.
std::unique_ptr<FileStreamWriter> make_raw_stream_writer(UniqueFd fd, std::string label);
std::unique_ptr<FileStreamWriter> make_zstd_stream_writer(UniqueFd fd, std::string label,
                                                          const CompressionSpec& spec);

std::unique_ptr<StreamReader> make_raw_stream_reader(UniqueFd fd, std::string label,
                                                     const FileRecord& record);
std::unique_ptr<StreamReader> make_zstd_stream_reader(UniqueFd fd, std::string label,
                                                      const FileRecord& record);

}  // namespace ckpt::image
