// Internal to image/: the two stream encodings behind StreamWriter/StreamReader.
//   raw:  the bytes as given, buffered into large writes (or written straight from the
//         caller's buffer when it is large), checksummed on the fly.
//   zstd: one zstd frame (multi-threaded compression, frame checksum on), checksummed as stored.
#pragma once

#include <memory>
#include <string>

#include "common/unique_fd.h"
#include "image/image.h"
#include "image/manifest.h"

namespace ckpt::image {

class FileStreamWriter : public StreamWriter {
 public:
  // What the manifest says about this stream; complete after finish().
  virtual FileRecord record() const = 0;
  virtual bool finished() const = 0;
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
