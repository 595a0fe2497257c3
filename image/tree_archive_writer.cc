// TreeArchiveWriter: the encoding side of tree_archive.h. Each entry's fixed part is gathered
// into one small buffer and written with one call; file data goes straight through.
#include <bit>
#include <cstring>

#include "common/error.h"
#include "image/tree_archive.h"

namespace ckpt::image {

namespace {

class Encoder {
 public:
  template <typename T>
  void put(T value) {
    // x86-64 and every other target of this runtime are little-endian: the bytes as they are.
    static_assert(std::endian::native == std::endian::little);
    char bytes[sizeof(T)];
    std::memcpy(bytes, &value, sizeof(T));
    buf_.append(bytes, sizeof(T));
  }
  void put_bytes(const std::string& s) { buf_.append(s); }
  const std::string& bytes() const { return buf_; }

 private:
  std::string buf_;
};

}  // namespace

const char* entry_type_name(EntryType type) {
  switch (type) {
    case EntryType::directory:
      return "directory";
    case EntryType::regular:
      return "regular file";
    case EntryType::symlink:
      return "symlink";
    case EntryType::hardlink:
      return "hard link";
    case EntryType::fifo:
      return "fifo";
    case EntryType::socket:
      return "socket";
    case EntryType::char_device:
      return "character device";
    case EntryType::block_device:
      return "block device";
  }
  return "unknown";
}

uint64_t TreeEntry::data_bytes() const {
  uint64_t total = 0;
  for (const DataRun& r : runs) total += r.length;
  return total;
}

TreeArchiveWriter::TreeArchiveWriter(StreamWriter& out) : out_(out) {
  Encoder header;
  header.put_bytes(std::string(kTreeMagic));
  header.put(kTreeVersion);
  out_.write(header.bytes().data(), header.bytes().size());
}

void TreeArchiveWriter::check_data_complete() const {
  if (data_left_ != 0) {
    throw Error("tree archive: \"" + current_ + "\" is " + std::to_string(data_left_) +
                " data bytes short of its runs (the file changed while it was archived)");
  }
}

void TreeArchiveWriter::add(const TreeEntry& e) {
  check_data_complete();
  if (finished_) throw Error("tree archive: entry \"" + e.path + "\" added after the end");
  // What the fixed-width fields cannot hold is refused, never truncated (the kernel's own
  // limits, XATTR_NAME_MAX and a tmpfs's 64 KiB of xattrs per inode, keep real files within).
  if (e.xattrs.size() > UINT16_MAX)
    throw Error("tree archive: \"" + e.path + "\" has more than 65535 xattrs");
  for (const Xattr& x : e.xattrs) {
    if (x.name.empty() || x.name.size() > UINT8_MAX)
      throw Error("tree archive: \"" + e.path + "\": xattr name of " +
                  std::to_string(x.name.size()) + " bytes (1..255 allowed)");
  }
  Encoder enc;
  enc.put<uint8_t>('E');
  enc.put(static_cast<uint8_t>(e.type));
  enc.put(static_cast<uint32_t>(e.path.size()));
  enc.put_bytes(e.path);
  if (e.type == EntryType::hardlink) {
    enc.put(e.link_to);
  } else {
    enc.put(e.mode);
    enc.put(e.uid);
    enc.put(e.gid);
    enc.put(e.atime.sec);
    enc.put(e.atime.nsec);
    enc.put(e.mtime.sec);
    enc.put(e.mtime.nsec);
    enc.put(static_cast<uint16_t>(e.xattrs.size()));
    for (const Xattr& x : e.xattrs) {
      enc.put(static_cast<uint8_t>(x.name.size()));
      enc.put_bytes(x.name);
      enc.put(static_cast<uint32_t>(x.value.size()));
      enc.put_bytes(x.value);
    }
    switch (e.type) {
      case EntryType::symlink:
        enc.put(static_cast<uint32_t>(e.target.size()));
        enc.put_bytes(e.target);
        break;
      case EntryType::char_device:
      case EntryType::block_device:
        enc.put(e.dev_major);
        enc.put(e.dev_minor);
        break;
      case EntryType::regular:
        enc.put(e.size);
        enc.put(static_cast<uint64_t>(e.runs.size()));
        for (const DataRun& r : e.runs) {
          enc.put(r.offset);
          enc.put(r.length);
        }
        break;
      default:
        break;
    }
  }
  out_.write(enc.bytes().data(), enc.bytes().size());
  ++entries_;
  current_ = e.path;
  data_left_ = e.type == EntryType::regular ? e.data_bytes() : 0;
}

void TreeArchiveWriter::write_data(const void* data, size_t len) {
  if (len > data_left_) {
    throw Error("tree archive: \"" + current_ + "\" got " + std::to_string(len) +
                " data bytes where " + std::to_string(data_left_) +
                " were left (the file changed while it was archived)");
  }
  out_.write(data, len);
  data_left_ -= len;
  data_bytes_ += len;
}

void TreeArchiveWriter::finish() {
  check_data_complete();
  if (finished_) return;
  Encoder enc;
  enc.put<uint8_t>('Z');
  enc.put(entries_);
  enc.put(data_bytes_);
  out_.write(enc.bytes().data(), enc.bytes().size());
  finished_ = true;
}

}  // namespace ckpt::image
