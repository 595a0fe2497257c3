// A file tree in one image stream: the contents of a tmpfs mount, tar-like, with what a tar
// loses kept (nanosecond times, every readable xattr, holes of sparse files, hard links).
// This is the encoding only: the walking of a real file system and the unpacking into one
// belong to runtime/ (image/ makes no process-level syscalls).
//
// Layout (all integers little-endian):
//
//   header   "ckpttree" (8 bytes) | version u32 (= 1)
//   entry    u8 'E' | u8 type | u32 path_len | path
//            type hardlink:  u64 link_to                  (index of an earlier entry)
//            other types:    u32 mode | u32 uid | u32 gid
//                            i64 atime_sec | u32 atime_nsec | i64 mtime_sec | u32 mtime_nsec
//                            u16 xattr_count | { u8 name_len | name | u32 value_len | value }
//              symlink:      u32 target_len | target
//              char/block:   u32 major | u32 minor
//              regular:      u64 size | u64 run_count | { u64 offset | u64 length }
//                            then the bytes of every run, in run order
//   end      u8 'Z' | u64 entry_count | u64 data_bytes
//
// Rules the reader enforces, so an unpacker can trust what it gets: the first entry is the root
// directory (path ""); paths are relative, '/'-separated, with no empty, "." or ".." component;
// every entry's parent directory came earlier; no path twice; a hard link names an earlier
// entry that is neither a directory nor a hard link; runs are ordered, non-empty, do not
// overlap and end within the size; the end record's counts match what came before.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "image/image.h"

namespace ckpt::image {

constexpr std::string_view kTreeMagic = "ckpttree";
constexpr uint32_t kTreeVersion = 1;

enum class EntryType : uint8_t {
  directory = 1,
  regular = 2,
  symlink = 3,
  hardlink = 4,  // another name of an earlier entry's inode
  fifo = 5,
  socket = 6,  // the inode a bound unix socket leaves in the file system
  char_device = 7,
  block_device = 8,
};
const char* entry_type_name(EntryType type);

struct Timestamp {
  int64_t sec = 0;
  uint32_t nsec = 0;
  bool operator==(const Timestamp&) const = default;
};

struct Xattr {
  std::string name;  // with its namespace: "user.origin", "security.capability"
  std::string value;
  bool operator==(const Xattr&) const = default;
};

// Bytes [offset, offset + length) of a regular file hold data; the rest up to its size is a
// hole, left unallocated when the file is written back.
struct DataRun {
  uint64_t offset = 0;
  uint64_t length = 0;
  bool operator==(const DataRun&) const = default;
};

struct TreeEntry {
  std::string path;  // relative to the mount root; "" is the root itself
  EntryType type = EntryType::regular;
  uint32_t mode = 0;  // permission bits with setuid, setgid and sticky (07777)
  uint32_t uid = 0, gid = 0;
  Timestamp atime, mtime;
  uint32_t dev_major = 0, dev_minor = 0;  // char/block devices
  std::string target;                     // symlink: the target, verbatim
  uint64_t link_to = 0;                   // hardlink: index of the entry it is another name of
  uint64_t size = 0;                      // regular: st_size
  std::vector<DataRun> runs;              // regular: where the data is
  std::vector<Xattr> xattrs;

  uint64_t data_bytes() const;  // sum of the run lengths
  bool operator==(const TreeEntry&) const = default;
};

// Writes an archive into `out`. For a regular entry, add() is followed by write_data() calls
// that give exactly entry.data_bytes() bytes, the runs' contents in order.
class TreeArchiveWriter {
 public:
  explicit TreeArchiveWriter(StreamWriter& out);

  void add(const TreeEntry& entry);
  void write_data(const void* data, size_t len);
  // Writes the end record. Does not finish the stream.
  void finish();

  uint64_t entries() const { return entries_; }
  uint64_t data_bytes() const { return data_bytes_; }

 private:
  void check_data_complete() const;

  StreamWriter& out_;
  uint64_t entries_ = 0;
  uint64_t data_bytes_ = 0;
  uint64_t data_left_ = 0;  // bytes the current regular entry still owes
  std::string current_;     // its path, for messages
  bool finished_ = false;
};

// Reads an archive from `in`, checking every rule above. Errors are one line:
// "<label>: entry 7 \"d/f\": <what is wrong>" with a hint that the image is damaged.
class TreeArchiveReader {
 public:
  // `label` names the stream in messages: "image /var/lib/ckpt/c1: tmpfs-0".
  TreeArchiveReader(StreamReader& in, std::string label);

  // The next entry, or nullopt after the end record (whose counts are checked). Data of the
  // previous regular entry that was not read is skipped. The caller then finishes the stream,
  // which checks its checksum and that nothing follows.
  std::optional<TreeEntry> next();
  // The current regular entry's data, in run order; at most data_left() bytes.
  void read_data(void* data, size_t len);
  uint64_t data_left() const { return data_left_; }

  uint64_t entries() const { return index_; }
  uint64_t data_bytes() const { return data_bytes_; }

 private:
  template <typename T>
  T get();
  std::string get_bytes(size_t len);
  [[noreturn]] void fail(const std::string& what) const;
  void read_header();
  void read_entry_body(TreeEntry& e);
  void check_path(const std::string& path);
  void skip_data();

  StreamReader& in_;
  std::string label_;
  uint64_t offset_ = 0;  // bytes consumed, for messages
  uint64_t index_ = 0;   // entries read so far
  uint64_t data_bytes_ = 0;
  uint64_t data_left_ = 0;
  std::string current_;  // path of the entry being read, for messages
  bool started_ = false, ended_ = false;
  std::vector<EntryType> types_;  // by index: what a hard link may refer to
  std::set<std::string> paths_, directories_;
};

}  // namespace ckpt::image
