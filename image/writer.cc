// ImageWriter: builds the image in a hidden sibling directory and publishes it with one
// rename(2) after everything, the directory included, is on disk.
//
// Ordering that makes a crash safe: data files fsynced -> manifest.json and manifest.sum
// fsynced -> temp directory fsynced (its entries) -> rename(tmp, DIR) -> parent fsynced (the
// rename itself). A crash before the rename leaves `.DIR.partial-PID`, never DIR (the next
// writer for DIR removes it: image/partial.h); a crash after it leaves a complete image. rename(2)
// replaces an empty directory atomically, which is what lets the caller pre-create DIR.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <utility>

#include "common/error.h"
#include "common/file_util.h"
#include "image/checksum.h"
#include "image/image.h"
#include "image/manifest.h"
#include "image/partial.h"
#include "image/stored_file.h"
#include "image/stream.h"

namespace ckpt::image {

namespace {

std::string strip_slashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// ENOENT: absent; 0: an empty directory; otherwise an Error saying why DIR cannot be used.
int check_target(const std::string& dir) {
  struct stat st;
  // rename(2) replaces a symbolic link at DIR instead of following it (and fails when the link
  // points to a directory), so a link would only fail at commit, after the whole dump.
  if (::lstat(dir.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    char target[4096];
    ssize_t n = ::readlink(dir.c_str(), target, sizeof target - 1);
    std::string to = n > 0 ? std::string(target, static_cast<size_t>(n)) : "?";
    throw Error("image directory " + dir + " is a symbolic link (to " + to + ")", 0,
                "give the real directory or a new path: an image is published by rename(2), "
                "which replaces a link instead of following it");
  }
  if (::stat(dir.c_str(), &st) < 0) {
    if (errno == ENOENT) return ENOENT;
    throw sys_error("image directory " + dir);
  }
  if (!S_ISDIR(st.st_mode)) {
    throw Error("image directory " + dir + " exists and is not a directory", 0,
                "give a new path or an empty directory");
  }
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) throw sys_error("open image directory " + dir);
  bool empty = true;
  while (dirent* ent = ::readdir(d)) {
    std::string_view name = ent->d_name;
    if (name != "." && name != "..") {
      empty = false;
      break;
    }
  }
  ::closedir(d);
  if (!empty) {
    throw Error("image directory " + dir + " is not empty", 0,
                "give a new path or an empty directory; remove the old image first to replace it");
  }
  return 0;
}

void fsync_dir(const std::string& path) {
  UniqueFd fd = open_file(path, O_RDONLY | O_DIRECTORY);
  if (::fsync(fd.get()) < 0) throw sys_error("fsync directory " + path);
}

}  // namespace

struct ImageWriter::Impl {
  std::string tmp;
  UniqueFd dirfd;
  FileMap files;  // plain files, complete when added
  std::map<std::string, std::unique_ptr<FileStreamWriter>> streams;
  bool committed = false;

  std::string label(const std::string& dir, const std::string& name) const {
    return "image " + dir + ": " + name;
  }

  // A caller's file: a plain, new name, before commit.
  UniqueFd create(const std::string& dir, const std::string& name) {
    if (committed) throw Error("image " + dir + ": " + name + ": added after commit()");
    check_file_name(name);
    if (files.count(name) || streams.count(name)) {
      throw Error("image " + dir + ": " + name + " is written twice", 0,
                  "each file of an image needs its own name");
    }
    return create_unchecked(name);
  }

  UniqueFd create_unchecked(const std::string& name) {
    int fd = ::openat(dirfd.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw sys_error("create " + tmp + "/" + name);
    UniqueFd owned(fd);
    // The umask may only clear bits, but an image holds process memory: make it 0600 exactly.
    if (::fchmod(fd, 0600) < 0) throw sys_error("chmod " + tmp + "/" + name);
    return owned;
  }

  FileRecord write_small(UniqueFd fd, const std::string& label, std::string_view bytes) {
    StoredFileWriter out(std::move(fd), label);
    out.write(bytes.data(), bytes.size());
    out.finish();
    return FileRecord{out.bytes(), out.hex(), out.bytes(), Compression::none, false};
  }
};

ImageWriter::ImageWriter(std::string dir) : dir_(strip_slashes(std::move(dir))) {
  if (dir_.empty()) throw Error("image directory is empty", 0, "give a path");
  check_target(dir_);
  make_dirs(parent_of(dir_), 0755);
  auto impl = std::make_unique<Impl>();
  // A hidden name beside DIR: same file system (so rename works), never taken for an image;
  // locked while we live, so the next writer removes it if we die (image/partial.h).
  PartialDir partial = create_partial(dir_);
  impl->tmp = std::move(partial.path);
  impl->dirfd = std::move(partial.fd);
  impl_ = std::move(impl);
}

ImageWriter::~ImageWriter() {
  if (!impl_ || impl_->committed) return;
  impl_->streams.clear();  // close their fds before removing the files
  impl_->dirfd.reset();
  try {
    remove_tree(impl_->tmp);
  } catch (const Error&) {
    // A destructor cannot report; the leftover is a hidden .partial dir, never an image.
  }
}

void ImageWriter::add_file(const std::string& name, std::string_view bytes) {
  UniqueFd fd = impl_->create(dir_, name);
  FileRecord record = impl_->write_small(std::move(fd), impl_->label(dir_, name), bytes);
  impl_->files[name] = record;
}

StreamWriter& ImageWriter::open_stream(const std::string& name, CompressionSpec compression) {
  UniqueFd fd = impl_->create(dir_, name);
  std::string label = impl_->label(dir_, name);
  std::unique_ptr<FileStreamWriter> stream =
      compression.kind == Compression::zstd
          ? make_zstd_stream_writer(std::move(fd), std::move(label), compression)
          : make_raw_stream_writer(std::move(fd), std::move(label));
  FileStreamWriter& ref = *stream;
  impl_->streams[name] = std::move(stream);
  return ref;
}

void ImageWriter::commit(const nlohmann::json& body) {
  Impl& m = *impl_;
  if (m.committed) throw Error("image " + dir_ + ": committed twice");
  FileMap all = m.files;
  for (auto& [name, stream] : m.streams) {
    stream->finish();
    all[name] = stream->record();
  }
  std::string manifest = build_manifest(all, body).dump(2) + "\n";
  // The manifest's own files are not in the manifest, so a failed commit can be retried.
  ::unlinkat(m.dirfd.get(), kManifestName, 0);
  ::unlinkat(m.dirfd.get(), kManifestSumName, 0);
  m.write_small(m.create_unchecked(kManifestName), m.label(dir_, kManifestName), manifest);
  m.write_small(m.create_unchecked(kManifestSumName), m.label(dir_, kManifestSumName),
                xxh128_hex(manifest) + "\n");
  if (::fsync(m.dirfd.get()) < 0) throw sys_error("fsync directory " + m.tmp);

  // DIR may have appeared since the constructor checked; rename(2) would replace an empty
  // directory but fails on a non-empty one, which must not be overwritten anyway.
  check_target(dir_);
  if (::rename(m.tmp.c_str(), dir_.c_str()) < 0) {
    int err = errno;
    throw Error("publish image: rename " + m.tmp + " to " + dir_, err,
                err == ENOTEMPTY || err == EEXIST ? "the directory was filled meanwhile; "
                                                    "give a new path"
                                                  : "");
  }
  m.committed = true;
  m.dirfd.reset();
  m.streams.clear();
  fsync_dir(parent_of(dir_));
}

void ImageWriter::withdraw() {
  Impl& m = *impl_;
  if (!m.committed) throw Error("image " + dir_ + ": withdrawn before commit()");
  // Out of sight in one step: a reader finds either the whole image or nothing at DIR. If we
  // die before the removal below, the hidden name is a partial nobody holds: swept later.
  if (::rename(dir_.c_str(), m.tmp.c_str()) < 0) throw sys_error("withdraw image " + dir_);
  remove_tree(m.tmp);
}

uint64_t ImageWriter::stored_bytes() const {
  uint64_t total = 0;
  for (const auto& [name, r] : impl_->files) total += r.size;
  for (const auto& [name, s] : impl_->streams) total += s->stored_bytes();
  return total;
}

}  // namespace ckpt::image
