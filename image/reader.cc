// ImageReader: opens an image, trusts nothing until checked. The manifest is checked against
// manifest.sum when the reader is built; each file against its manifest entry when read.
#include <fcntl.h>
#include <sys/stat.h>

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

std::string read_manifest_part(const std::string& dir, const char* name) {
  std::string path = dir + "/" + name;
  try {
    return read_file(path);
  } catch (const Error& e) {
    if (e.code() == ENOENT) {
      throw Error(dir + " is not a crun-ckpt image (no " + name + "): " + kRetake);
    }
    throw Error("image " + dir + ": read " + name, e.code());
  }
}

}  // namespace

struct ImageReader::Impl {
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
    int fd = ::open((dir + "/" + name).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      if (err == ENOENT) {
        throw Error(label(dir, name) + ": listed in the manifest but missing", 0,
                    "the image is incomplete; take the checkpoint again");
      }
      throw Error(label(dir, name) + ": open", err);
    }
    return UniqueFd(fd);
  }
};

ImageReader::ImageReader(std::string dir) : dir_(std::move(dir)) {
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
  struct stat st;
  if (::stat(dir_.c_str(), &st) < 0) {
    if (errno == ENOENT) {
      throw Error(dir_ + " is not a crun-ckpt image (no such directory): " + kRetake);
    }
    throw sys_error("image " + dir_);
  }
  if (!S_ISDIR(st.st_mode)) {
    throw Error(dir_ + " is not a crun-ckpt image (not a directory)", 0,
                "give the directory written by crun-ckpt checkpoint");
  }
  std::string json_text = read_manifest_part(dir_, kManifestName);
  std::string sum_text = read_manifest_part(dir_, kManifestSumName);
  impl_ = std::make_unique<Impl>();
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

}  // namespace ckpt::image
