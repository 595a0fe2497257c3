// ImageReader: opens an image, trusts nothing until checked. The manifest is checked against
// manifest.sum when the reader is built; each file against its manifest entry when read.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "common/error.h"
#include "common/file_util.h"
#include "image/image.h"
#include "image/manifest.h"
#include "image/stored_file.h"
#include "image/stream.h"

namespace ckpt::image {

namespace {

constexpr const char* kRetake =
    "an interrupted checkpoint leaves no image; take the checkpoint again";

const char* file_kind(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFLNK:
      return "a symbolic link";
    case S_IFDIR:
      return "a directory";
    case S_IFIFO:
      return "a FIFO";
    case S_IFCHR:
      return "a character device";
    case S_IFBLK:
      return "a block device";
    case S_IFSOCK:
      return "a socket";
  }
  return "not a regular file";
}

Error not_regular(const std::string& label, mode_t mode) {
  return Error(label + " is " + file_kind(mode) + ", not a regular file", 0,
               "an image holds regular files only; take the checkpoint again");
}

// Opens one member of the image, relative to the image directory's fd and without following
// a symbolic link at the last component (O_NOFOLLOW; names never hold '/', check_file_name), and
// accepts a regular file only. A member replaced by a link to a FIFO or a device must not hang
// verify or restore in open(2) or read(2), nor reach outside the image. Checked before opening
// (so nothing but a regular file is ever opened), and again on the fd, with O_NONBLOCK, in case
// the name was swapped in between: a FIFO opened O_NONBLOCK returns at once.
UniqueFd open_member(int dir_fd, const std::string& label, const std::string& name) {
  struct stat st;
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode))
    throw not_regular(label, st.st_mode);
  int fd =
      ::openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    int err = errno;
    if (err == ELOOP) throw not_regular(label, S_IFLNK);
    throw Error(label + ": open", err);
  }
  UniqueFd owner(fd);
  if (::fstat(fd, &st) < 0) throw Error(label + ": stat", errno);
  if (!S_ISREG(st.st_mode)) throw not_regular(label, st.st_mode);
  // Back to blocking reads: O_NONBLOCK only had to keep open(2) from waiting.
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
    throw Error(label + ": fcntl", errno);
  return owner;
}

std::string read_all(int fd, const std::string& label) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(label + ": read", errno);
    }
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

std::string read_manifest_part(int dir_fd, const std::string& dir, const char* name) {
  std::string label = "image " + dir + ": " + name;
  try {
    UniqueFd fd = open_member(dir_fd, label, name);
    return read_all(fd.get(), label);
  } catch (const Error& e) {
    if (e.code() == ENOENT) {
      throw Error(dir + " is not a crun-ckpt image (no " + name + "): " + kRetake);
    }
    throw;
  }
}

}  // namespace

struct ImageReader::Impl {
  UniqueFd dir_fd;
  Manifest manifest;

  std::string label(const std::string& dir, const std::string& name) const {
    return "image " + dir + ": " + name;
  }

  const FileRecord& entry(const std::string& dir, const std::string& name) const {
    auto it = manifest.files.find(name);
    if (it == manifest.files.end()) {
      throw Error("image " + dir + " has no file " + name + " in its manifest", 0,
                  "the image was written by a different crun-ckpt, or is incomplete");
    }
    return it->second;
  }

  UniqueFd open(const std::string& dir, const std::string& name) const {
    try {
      return open_member(dir_fd.get(), label(dir, name), name);
    } catch (const Error& e) {
      if (e.code() == ENOENT) {
        throw Error(label(dir, name) + ": listed in the manifest but missing", 0,
                    "the image is incomplete; take the checkpoint again");
      }
      throw;
    }
  }
};

ImageReader::ImageReader(std::string dir) : dir_(std::move(dir)) {
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
  // The directory itself may be reached through a link (the user named it); its members not.
  int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      throw Error(dir_ + " is not a crun-ckpt image (no such directory): " + kRetake);
    }
    if (errno == ENOTDIR) {
      throw Error(dir_ + " is not a crun-ckpt image (not a directory)", 0,
                  "give the directory written by crun-ckpt checkpoint");
    }
    throw sys_error("image " + dir_);
  }
  impl_ = std::make_unique<Impl>();
  impl_->dir_fd.reset(fd);
  std::string json_text = read_manifest_part(fd, dir_, kManifestName);
  std::string sum_text = read_manifest_part(fd, dir_, kManifestSumName);
  impl_->manifest = parse_manifest(dir_, json_text, sum_text);
}

ImageReader::~ImageReader() = default;

const nlohmann::json& ImageReader::manifest() const {
  return impl_->manifest.doc;
}

const nlohmann::json& ImageReader::body() const {
  return impl_->manifest.doc.at("body");
}

std::vector<std::string> ImageReader::files() const {
  std::vector<std::string> names;
  for (const auto& [name, r] : impl_->manifest.files) names.push_back(name);
  return names;
}

std::string ImageReader::read_file(const std::string& name) const {
  const FileRecord& r = impl_->entry(dir_, name);
  if (r.compression != Compression::none) {
    std::unique_ptr<StreamReader> stream = open_stream(name);
    std::string out(r.raw_size, '\0');
    stream->read(out.data(), out.size());
    stream->finish();
    return out;
  }
  StoredFileReader in(impl_->open(dir_, name), impl_->label(dir_, name), r.size, r.xxh128);
  std::string out(r.size, '\0');
  in.read_some(out.data(), out.size());
  in.finish();
  return out;
}

std::unique_ptr<StreamReader> ImageReader::open_stream(const std::string& name) const {
  const FileRecord& r = impl_->entry(dir_, name);
  UniqueFd fd = impl_->open(dir_, name);
  std::string label = impl_->label(dir_, name);
  if (r.compression == Compression::zstd) {
    return make_zstd_stream_reader(std::move(fd), std::move(label), r);
  }
  return make_raw_stream_reader(std::move(fd), std::move(label), r);
}

void ImageReader::verify_all() const {
  // The checksum is over stored bytes, so no decompression: verify reads at disk speed.
  std::vector<char> buffer(4u << 20);
  for (const auto& [name, r] : impl_->manifest.files) {
    StoredFileReader in(impl_->open(dir_, name), impl_->label(dir_, name), r.size, r.xxh128);
    while (in.read_some(buffer.data(), buffer.size()) > 0) {
    }
    in.finish();
  }
}

void ImageReader::check_host_arch() const {
  check_arch(dir_, impl_->manifest.doc, host_arch());
}

}  // namespace ckpt::image
