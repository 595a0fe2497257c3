// The tree archive format (image/tree_archive.h): every entry type round-trips exactly, through
// memory and through a real zstd image stream, and a truncated, corrupt or forged archive is
// refused with one line naming the entry and the byte.
#include "image/tree_archive.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>

#include "common/error.h"
#include "image_test_util.h"
#include "memory_stream.h"

namespace ckpt::image {
namespace {

using image_test::MemoryReader;
using image_test::MemoryWriter;

TreeEntry dir(const std::string& path, uint32_t mode = 0755) {
  TreeEntry e;
  e.path = path;
  e.type = EntryType::directory;
  e.mode = mode;
  e.atime = {1'700'000'000, 1};
  e.mtime = {1'600'000'000, 999'999'999};
  return e;
}

// A file of `size` bytes whose data is `runs`, filled with a byte pattern.
TreeEntry file(const std::string& path, uint64_t size, std::vector<DataRun> runs) {
  TreeEntry e;
  e.path = path;
  e.type = EntryType::regular;
  e.mode = 04755;
  e.uid = 1000;
  e.gid = 1000;
  e.mtime = {-5, 123};  // before the epoch still round-trips
  e.size = size;
  e.runs = std::move(runs);
  return e;
}

std::string data_for(const TreeEntry& e) {
  std::string out;
  for (const DataRun& r : e.runs)
    for (uint64_t i = 0; i < r.length; ++i) out.push_back(static_cast<char>((r.offset + i) * 7));
  return out;
}

// Every kind of entry the format knows.
std::vector<TreeEntry> sample() {
  std::vector<TreeEntry> v;
  v.push_back(dir("", 01777));
  v.back().xattrs = {{"trusted.overlay", std::string("\0\1", 2)}};
  v.push_back(dir("d", 02775));
  v.back().uid = 1000;
  v.back().gid = 1001;
  v.back().xattrs = {{"user.origin", "test"}, {"security.x", std::string(300, 'v')}};
  v.push_back(file("d/small", 11, {{0, 11}}));
  v.back().xattrs = {{"security.capability", std::string(20, '\x02')}};
  v.push_back(file("sparse", 64u << 20, {{0, 4096}, {32u << 20, 8192}, {(64u << 20) - 10, 10}}));
  v.push_back(file("empty", 0, {}));
  v.push_back(file("all-hole", 1u << 20, {}));
  TreeEntry link;
  link.path = "d/link";
  link.type = EntryType::symlink;
  link.mode = 0777;
  link.target = "../etc/passwd";
  v.push_back(link);
  TreeEntry hard;
  hard.path = "d/hard";
  hard.type = EntryType::hardlink;
  hard.link_to = 2;
  v.push_back(hard);
  for (auto [type, name] : {std::pair{EntryType::fifo, "fifo"},
                            {EntryType::socket, "sock"},
                            {EntryType::char_device, "null"},
                            {EntryType::block_device, "sda"}}) {
    TreeEntry e;
    e.path = name;
    e.type = type;
    e.mode = 0620;
    if (type == EntryType::char_device) e.dev_major = 1, e.dev_minor = 3;
    if (type == EntryType::block_device) e.dev_major = 259, e.dev_minor = 1 << 19;
    v.push_back(e);
  }
  return v;
}

void write_archive(StreamWriter& out, const std::vector<TreeEntry>& entries) {
  TreeArchiveWriter w(out);
  for (const TreeEntry& e : entries) {
    w.add(e);
    if (e.type == EntryType::regular) {
      std::string d = data_for(e);
      // In two pieces: the writer takes data in any chunking.
      w.write_data(d.data(), d.size() / 2);
      w.write_data(d.data() + d.size() / 2, d.size() - d.size() / 2);
    }
  }
  w.finish();
}

std::string encode(const std::vector<TreeEntry>& entries) {
  MemoryWriter out;
  write_archive(out, entries);
  return out.bytes;
}

// Reads everything back, checking data against the pattern.
std::vector<TreeEntry> decode(StreamReader& in) {
  TreeArchiveReader r(in, "test archive");
  std::vector<TreeEntry> out;
  while (auto e = r.next()) {
    if (e->type == EntryType::regular) {
      std::string d(r.data_left(), '\0');
      r.read_data(d.data(), d.size());
      EXPECT_EQ(d, data_for(*e)) << e->path;
    }
    out.push_back(*e);
  }
  in.finish();
  return out;
}

std::vector<TreeEntry> decode(const std::string& bytes) {
  MemoryReader in(bytes);
  return decode(in);
}

std::string error_of(const std::string& bytes) {
  return image_test::error_of([&] { decode(bytes); });
}

TEST(TreeArchive, EveryEntryTypeRoundTripsExactly) {
  std::vector<TreeEntry> entries = sample();
  EXPECT_EQ(decode(encode(entries)), entries);
}

TEST(TreeArchive, HolesAreNotStored) {
  std::string bytes = encode(sample());
  // The 64 MiB sparse file contributes its 12 KiB of runs, not its size.
  EXPECT_LT(bytes.size(), 20'000u);
}

TEST(TreeArchive, CountsEntriesAndDataBytes) {
  MemoryWriter out;
  write_archive(out, sample());
  MemoryReader in(out.bytes);
  TreeArchiveReader r(in, "t");
  while (r.next()) {
  }
  EXPECT_EQ(r.entries(), sample().size());
  EXPECT_EQ(r.data_bytes(), 11u + 4096 + 8192 + 10);
}

TEST(TreeArchive, UnreadDataIsSkipped) {
  MemoryReader in(encode(sample()));
  TreeArchiveReader r(in, "t");
  size_t n = 0;
  while (r.next()) ++n;
  EXPECT_EQ(n, sample().size());
  in.finish();
}

TEST(TreeArchive, RoundTripsThroughAZstdImageStream) {
  image_test::TempDir tmp;
  std::string dir = tmp / "img";
  {
    ImageWriter writer(dir);
    StreamWriter& out = writer.open_stream("tmpfs-0", CompressionSpec{Compression::zstd, 3, 1});
    write_archive(out, sample());
    out.finish();
    writer.commit(nlohmann::json::object());
  }
  ImageReader reader(dir);
  auto in = reader.open_stream("tmpfs-0");
  EXPECT_EQ(decode(*in), sample());
}

TEST(TreeArchive, WriterRefusesMissingOrExtraData) {
  MemoryWriter out;
  TreeArchiveWriter w(out);
  w.add(dir(""));
  w.add(file("f", 10, {{0, 10}}));
  EXPECT_THROW(w.write_data("0123456789x", 11), Error);
  w.write_data("01234", 5);
  EXPECT_THROW(w.add(dir("d")), Error);  // 5 bytes still owed
  EXPECT_THROW(w.finish(), Error);
}

TEST(TreeArchive, TruncatedArchiveIsOneLineNamingTheEntry) {
  std::string bytes = encode(sample());
  for (size_t cut : {size_t{3}, size_t{20}, bytes.size() / 2, bytes.size() - 1}) {
    SCOPED_TRACE(cut);
    std::string msg = error_of(bytes.substr(0, cut));
    EXPECT_NE(msg.find("test archive"), std::string::npos) << msg;
    EXPECT_NE(msg.find("ends early"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
  // Cut inside the data of the first file: the message names it.
  std::string msg = error_of(bytes.substr(0, bytes.find("\x00\x07\x0e", 0, 3) + 2));
  EXPECT_NE(msg.find("entry 2 \"d/small\""), std::string::npos) << msg;
}

// Rewrites an archive entry by entry, letting `edit` change what the writer gets, without the
// writer's own checks (they would refuse some forgeries before the reader sees them).
std::string forge(const std::function<void(std::vector<TreeEntry>&)>& edit) {
  std::vector<TreeEntry> entries = sample();
  edit(entries);
  return encode(entries);
}

TEST(TreeArchive, ForgedArchivesAreRefused) {
  struct Case {
    const char* name;
    std::function<void(std::vector<TreeEntry>&)> edit;
    const char* expect;
  };
  std::vector<Case> cases = {
      {"dotdot", [](auto& v) { v[2].path = "d/../../etc/shadow"; }, "\"..\" component"},
      {"absolute", [](auto& v) { v[4].path = "/etc/passwd"; }, "not relative"},
      {"no parent", [](auto& v) { v[4].path = "nodir/empty"; }, "parent directory \"nodir\""},
      {"parent is a symlink",
       [](auto& v) {
         TreeEntry e = v[4];
         e.path = "d/link/x";
         v.push_back(e);
       },
       "parent directory \"d/link\""},
      {"duplicate", [](auto& v) { v[5].path = "empty"; }, "appears twice"},
      {"root not first", [](auto& v) { std::swap(v[0], v[1]); }, "first entry must be the root"},
      {"root not a dir", [](auto& v) { v[0].type = EntryType::fifo; }, "not a directory"},
      {"hard link forward", [](auto& v) { v[7].link_to = 9; }, "does not come before"},
      {"hard link to dir", [](auto& v) { v[7].link_to = 1; }, "hard link to a directory"},
      {"run past size", [](auto& v) { v[3].size = 100; }, "beyond the file size"},
      {"overlap", [](auto& v) { v[3].runs[1].offset = 100; }, "out of order or overlapping"},
      {"mode bits", [](auto& v) { v[1].mode = 0170755; }, "beyond 07777"},
      {"nsec", [](auto& v) { v[1].mtime.nsec = 1'000'000'000; }, "nanoseconds"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string msg;
    try {
      msg = error_of(forge(c.edit));
    } catch (const Error& e) {
      msg = std::string("writer refused: ") + e.what();
    }
    EXPECT_NE(msg.find(c.expect), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

TEST(TreeArchive, CorruptBytesAreRefused) {
  std::string good = encode(sample());
  std::string bad_magic = good;
  bad_magic[0] = 'X';
  EXPECT_NE(error_of(bad_magic).find("bad magic"), std::string::npos);

  std::string bad_version = good;
  bad_version[8] = 2;
  EXPECT_NE(error_of(bad_version).find("version 2 is not supported"), std::string::npos);

  std::string bad_tag = good;
  bad_tag[12] = 'Q';
  EXPECT_NE(error_of(bad_tag).find("unknown record tag"), std::string::npos);

  std::string bad_type = good;
  bad_type[13] = 42;
  EXPECT_NE(error_of(bad_type).find("unknown entry type 42"), std::string::npos);

  // The end record's counts must match what came before.
  std::string bad_count = good;
  bad_count[bad_count.size() - 16] ^= 1;
  EXPECT_NE(error_of(bad_count).find("end record counts"), std::string::npos);

  // Nothing may follow the end record.
  EXPECT_NE(error_of(good + "x").find("bytes after the end"), std::string::npos);
}

TEST(TreeArchive, EmptyArchiveHasNoRoot) {
  MemoryWriter out;
  TreeArchiveWriter w(out);
  w.finish();
  EXPECT_NE(error_of(out.bytes).find("no root entry"), std::string::npos);
}

}  // namespace
}  // namespace ckpt::image
