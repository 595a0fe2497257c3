#include "image/stored_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <utility>

#include "common/file_util.h"

namespace ckpt::image {

namespace {
constexpr const char* kRetake = "the image is incomplete or damaged; take the checkpoint again";
}  // namespace

Error file_error(const std::string& label, std::string what, std::string hint) {
  Error e(std::move(what), 0, std::move(hint));
  e.context(label);
  return e;
}

StoredFileWriter::StoredFileWriter(UniqueFd fd, std::string label)
    : fd_(std::move(fd)), label_(std::move(label)) {}

void StoredFileWriter::write(const void* data, size_t len) {
  if (!fd_) throw file_error(label_, "write after finish");
  with_context(label_,
               [&] { write_full(fd_.get(), data, len, "at byte " + std::to_string(bytes_)); });
  sum_.update(data, len);
  bytes_ += len;
}

void StoredFileWriter::finish() {
  if (!fd_) return;
  // fsync here, not only at commit: the rename in commit() must never publish a file whose
  // data is still only in the page cache (rename is ordered after fsync, not after write).
  if (::fsync(fd_.get()) < 0) throw Error("fsync", errno).context(label_);
  if (::close(fd_.release()) < 0) throw Error("close", errno).context(label_);
}

StoredFileReader::StoredFileReader(UniqueFd fd, std::string label, uint64_t size,
                                   std::string xxh128)
    : fd_(std::move(fd)), label_(std::move(label)), size_(size), expected_(std::move(xxh128)) {
  struct stat st;
  if (::fstat(fd_.get(), &st) < 0) throw Error("stat", errno).context(label_);
  auto on_disk = static_cast<uint64_t>(st.st_size);
  if (on_disk < size_) {
    throw file_error(
        label_,
        "truncated: data ends at byte " + std::to_string(on_disk) + " of " + std::to_string(size_),
        kRetake);
  }
  if (on_disk > size_) {
    throw file_error(label_,
                     std::to_string(on_disk) + " bytes on disk but the manifest says " +
                         std::to_string(size_) + " (altered after the checkpoint)",
                     "the image cannot be trusted; take the checkpoint again");
  }
}

size_t StoredFileReader::read_some(void* buf, size_t len) {
  if (len > remaining()) len = static_cast<size_t>(remaining());
  auto* p = static_cast<char*>(buf);
  size_t done = 0;
  while (done < len) {
    ssize_t n = ::read(fd_.get(), p + done, len - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error("read at byte " + std::to_string(offset_ + done), errno).context(label_);
    }
    if (n == 0) {
      throw file_error(label_,
                       "truncated: data ends at byte " + std::to_string(offset_ + done) + " of " +
                           std::to_string(size_),
                       kRetake);
    }
    done += static_cast<size_t>(n);
  }
  sum_.update(p, done);
  offset_ += done;
  return done;
}

void StoredFileReader::finish() {
  if (offset_ != size_) {
    throw file_error(label_, "checked before its end (at byte " + std::to_string(offset_) + " of " +
                                 std::to_string(size_) + ")");
  }
  char extra;
  ssize_t n;
  do {
    n = ::read(fd_.get(), &extra, 1);
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw Error("read at byte " + std::to_string(offset_), errno).context(label_);
  if (n > 0) {
    throw file_error(label_,
                     "longer than the manifest's " + std::to_string(size_) +
                         " bytes (altered after the checkpoint)",
                     "the image cannot be trusted; take the checkpoint again");
  }
  if (sum_.hex() != expected_) {
    throw file_error(label_, "checksum mismatch: bytes flipped or altered after the checkpoint",
                     "the image cannot be trusted; take the checkpoint again");
  }
}

}  // namespace ckpt::image
