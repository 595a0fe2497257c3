// TreeArchiveReader: the decoding side of tree_archive.h. Everything read is checked before it
// is handed out (tree_archive.h lists the rules), so the unpacker never sees a path that leaves
// the tree, a hard link to nowhere or a run outside its file; the image's checksum guards
// against damage, these checks against an archive that was written wrong or forged.
#include <bit>
#include <cstdio>
#include <cstring>

#include "common/error.h"
#include "image/tree_archive.h"

namespace ckpt::image {

namespace {

constexpr size_t kMaxPath = 4095;    // PATH_MAX without its NUL
constexpr size_t kMaxName = 255;     // NAME_MAX
constexpr size_t kMaxValue = 65536;  // XATTR_SIZE_MAX
constexpr uint64_t kMaxSize = static_cast<uint64_t>(INT64_MAX);
constexpr const char* kHint = "the image is damaged or was not written by crun-ckpt";

std::string parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

}  // namespace

TreeArchiveReader::TreeArchiveReader(StreamReader& in, std::string label)
    : in_(in), label_(std::move(label)) {}

void TreeArchiveReader::fail(const std::string& what) const {
  std::string where = label_;
  if (started_ && !ended_ && index_ > 0)
    where += ": entry " + std::to_string(index_ - 1) + " \"" + current_ + "\"";
  throw Error(where + ": " + what + " (archive byte " + std::to_string(offset_) + ")", 0, kHint);
}

template <typename T>
T TreeArchiveReader::get() {
  static_assert(std::endian::native == std::endian::little);
  char bytes[sizeof(T)];
  try {
    in_.read(bytes, sizeof(T));
  } catch (const Error& e) {
    fail(std::string("the archive ends early: ") + e.what());
  }
  offset_ += sizeof(T);
  T value;
  std::memcpy(&value, bytes, sizeof(T));
  return value;
}

std::string TreeArchiveReader::get_bytes(size_t len) {
  std::string out(len, '\0');
  try {
    in_.read(out.data(), len);
  } catch (const Error& e) {
    fail(std::string("the archive ends early: ") + e.what());
  }
  offset_ += len;
  return out;
}

void TreeArchiveReader::read_header() {
  std::string magic = get_bytes(kTreeMagic.size());
  if (magic != std::string(kTreeMagic)) fail("not a tree archive (bad magic)");
  uint32_t version = get<uint32_t>();
  if (version != kTreeVersion)
    fail("tree archive version " + std::to_string(version) + " is not supported (this " +
         "crun-ckpt reads version " + std::to_string(kTreeVersion) + ")");
  started_ = true;
}

void TreeArchiveReader::check_path(const std::string& path) {
  if (index_ == 1) {
    if (!path.empty()) fail("the first entry must be the root directory (path \"\")");
    return;
  }
  if (path.empty()) fail("a second root entry");
  if (path.front() == '/' || path.back() == '/') fail("the path is not relative");
  if (path.find('\0') != std::string::npos) fail("the path holds a NUL byte");
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string name = path.substr(start, end - start);
    if (name.empty() || name == "." || name == "..")
      fail("the path has an empty, \".\" or \"..\" component");
    if (name.size() > kMaxName) fail("a path component is longer than 255 bytes");
    start = end + 1;
  }
  if (!directories_.count(parent_of(path)))
    fail("its parent directory \"" + parent_of(path) + "\" is not an earlier directory entry");
  if (!paths_.insert(path).second) fail("the path appears twice");
}

void TreeArchiveReader::read_entry_body(TreeEntry& e) {
  if (e.type == EntryType::hardlink) {
    e.link_to = get<uint64_t>();
    if (e.link_to >= index_ - 1)
      fail("a hard link to entry " + std::to_string(e.link_to) + ", which does not come before it");
    EntryType to = types_[e.link_to];
    if (to == EntryType::directory || to == EntryType::hardlink)
      fail(std::string("a hard link to a ") + entry_type_name(to));
    return;
  }
  e.mode = get<uint32_t>();
  if (e.mode & ~07777u) {
    char octal[16];
    std::snprintf(octal, sizeof octal, "%o", e.mode);
    fail(std::string("mode ") + octal + " has bits beyond 07777");
  }
  e.uid = get<uint32_t>();
  e.gid = get<uint32_t>();
  e.atime.sec = get<int64_t>();
  e.atime.nsec = get<uint32_t>();
  e.mtime.sec = get<int64_t>();
  e.mtime.nsec = get<uint32_t>();
  if (e.atime.nsec >= 1'000'000'000 || e.mtime.nsec >= 1'000'000'000)
    fail("a timestamp has 1e9 or more nanoseconds");
  uint16_t nx = get<uint16_t>();
  for (uint16_t i = 0; i < nx; ++i) {
    Xattr x;
    uint8_t name_len = get<uint8_t>();
    if (name_len == 0) fail("an xattr with an empty name");
    x.name = get_bytes(name_len);
    if (x.name.find('\0') != std::string::npos) fail("an xattr name holds a NUL byte");
    uint32_t value_len = get<uint32_t>();
    if (value_len > kMaxValue) fail("xattr " + x.name + " is larger than 64 KiB");
    x.value = get_bytes(value_len);
    e.xattrs.push_back(std::move(x));
  }
  switch (e.type) {
    case EntryType::symlink: {
      uint32_t len = get<uint32_t>();
      if (len == 0 || len > kMaxPath) fail("a symlink target of " + std::to_string(len) + " bytes");
      e.target = get_bytes(len);
      if (e.target.find('\0') != std::string::npos) fail("the symlink target holds a NUL byte");
      break;
    }
    case EntryType::char_device:
    case EntryType::block_device:
      e.dev_major = get<uint32_t>();
      e.dev_minor = get<uint32_t>();
      break;
    case EntryType::regular: {
      e.size = get<uint64_t>();
      if (e.size > kMaxSize) fail("a file size beyond 2^63");
      uint64_t nruns = get<uint64_t>();
      uint64_t end = 0;
      for (uint64_t i = 0; i < nruns; ++i) {
        DataRun r{get<uint64_t>(), get<uint64_t>()};
        if (r.length == 0) fail("an empty data run");
        if (r.offset < end) fail("data runs out of order or overlapping");
        if (r.offset > e.size || r.length > e.size - r.offset)
          fail("a data run ends beyond the file size " + std::to_string(e.size));
        end = r.offset + r.length;
        e.runs.push_back(r);
      }
      break;
    }
    default:
      break;
  }
}

void TreeArchiveReader::skip_data() {
  while (data_left_ > 0) {
    char buf[65536];
    size_t n = data_left_ < sizeof buf ? static_cast<size_t>(data_left_) : sizeof buf;
    read_data(buf, n);
  }
}

void TreeArchiveReader::read_data(void* data, size_t len) {
  if (len > data_left_)
    fail("asked for " + std::to_string(len) + " data bytes where " + std::to_string(data_left_) +
         " are left");
  try {
    in_.read(data, len);
  } catch (const Error& e) {
    fail(std::string("the archive ends early: ") + e.what());
  }
  offset_ += len;
  data_left_ -= len;
  data_bytes_ += len;
}

std::optional<TreeEntry> TreeArchiveReader::next() {
  if (ended_) return std::nullopt;
  if (!started_) read_header();
  skip_data();
  uint8_t tag = get<uint8_t>();
  if (tag == 'Z') {
    uint64_t entries = get<uint64_t>();
    uint64_t bytes = get<uint64_t>();
    ended_ = true;
    if (entries != index_ || bytes != data_bytes_)
      fail("the end record counts " + std::to_string(entries) + " entries and " +
           std::to_string(bytes) + " data bytes, the archive holds " + std::to_string(index_) +
           " and " + std::to_string(data_bytes_));
    if (index_ == 0) fail("the archive has no root entry");
    return std::nullopt;
  }
  if (tag != 'E') fail("unknown record tag " + std::to_string(tag));
  TreeEntry e;
  uint8_t type = get<uint8_t>();
  if (type < static_cast<uint8_t>(EntryType::directory) ||
      type > static_cast<uint8_t>(EntryType::block_device))
    fail("unknown entry type " + std::to_string(type));
  e.type = static_cast<EntryType>(type);
  uint32_t path_len = get<uint32_t>();
  if (path_len > kMaxPath) fail("a path of " + std::to_string(path_len) + " bytes");
  e.path = get_bytes(path_len);
  ++index_;
  current_ = e.path;
  check_path(e.path);
  if (index_ == 1 && e.type != EntryType::directory)
    fail(std::string("the root entry is a ") + entry_type_name(e.type) + ", not a directory");
  read_entry_body(e);
  types_.push_back(e.type);
  if (e.type == EntryType::directory) directories_.insert(e.path);
  data_left_ = e.type == EntryType::regular ? e.data_bytes() : 0;
  return e;
}

}  // namespace ckpt::image
