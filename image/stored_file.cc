#include "image/stored_file.h"

#include <fcntl.h>
#include <sys/mman.h>
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
  // Start writeback of what is written so far without waiting for it: the disk then works
  // while the rest is produced, instead of all of it waiting for the fsync in finish(), and
  // dirty page cache stays bounded. Advisory: an error here shows again at fsync.
  constexpr uint64_t kWritebackStep = 32u << 20;
  if (bytes_ - writeback_from_ >= kWritebackStep) {
    ::sync_file_range(fd_.get(), static_cast<off_t>(writeback_from_),
                      static_cast<off_t>(bytes_ - writeback_from_), SYNC_FILE_RANGE_WRITE);
    writeback_from_ = bytes_;
  }
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
  // A FIFO or device would block or never end: its size means nothing (image/reader.cc opens
  // members so that only regular files get here; this keeps every other caller honest).
  if (!S_ISREG(st.st_mode)) throw file_error(label_, "not a regular file", kRetake);
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

StoredFileReader::~StoredFileReader() {
  if (map_ != nullptr) ::munmap(map_, static_cast<size_t>(size_));
}

size_t StoredFileReader::read_some(void* buf, size_t len) {
  if (len > remaining()) len = static_cast<size_t>(remaining());
  auto* p = static_cast<char*>(buf);
  size_t done = 0;
  while (done < len) {
    // pread at our own offset, so map_some() may be used in between.
    ssize_t n = ::pread(fd_.get(), p + done, len - done, static_cast<off_t>(offset_ + done));
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

const char* StoredFileReader::map_some(size_t& len) {
  if (len > remaining()) len = static_cast<size_t>(remaining());
  if (len == 0) return nullptr;
  if (map_ == nullptr) {
    void* p = ::mmap(nullptr, static_cast<size_t>(size_), PROT_READ, MAP_SHARED, fd_.get(), 0);
    if (p == MAP_FAILED) throw Error("mmap", errno).context(label_);
    map_ = p;
    // Read once, front to back: larger readahead, and pages behind may go first.
    ::madvise(map_, static_cast<size_t>(size_), MADV_SEQUENTIAL);
  }
  // Touching a mapped page beyond the end of the file raises SIGBUS. The size was checked at
  // open; check it again before each piece (one fstat per multi-MiB chunk) so a file cut short
  // meanwhile fails with a message. Only a cut between this check and the access below can
  // still fault; the image directory is 0700 and nothing of crun-ckpt shrinks its files.
  struct stat st;
  if (::fstat(fd_.get(), &st) < 0) throw Error("stat", errno).context(label_);
  if (static_cast<uint64_t>(st.st_size) < offset_ + len) {
    throw file_error(label_,
                     "truncated while being read: data ends at byte " + std::to_string(st.st_size) +
                         " of " + std::to_string(size_),
                     kRetake);
  }
  const char* p = static_cast<const char*>(map_) + offset_;
  sum_.update(p, len);
  offset_ += len;
  return p;
}

void StoredFileReader::finish() {
  if (offset_ != size_) {
    throw file_error(label_, "checked before its end (at byte " + std::to_string(offset_) + " of " +
                                 std::to_string(size_) + ")");
  }
  char extra;
  ssize_t n;
  do {
    n = ::pread(fd_.get(), &extra, 1, static_cast<off_t>(offset_));
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
