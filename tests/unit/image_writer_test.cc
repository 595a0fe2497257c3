#include <dirent.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "image/image.h"
#include "tests/unit/image_test_util.h"

namespace ckpt::image {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace ckpt::image::image_test;

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* ent = ::readdir(d)) {
    std::string name = ent->d_name;
    if (name != "." && name != "..") out.push_back(name);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

mode_t mode_of(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) < 0) return 0;
  return st.st_mode & 07777;
}

TEST(ImageWriter, RefusesANonEmptyDirectoryWithAHint) {
  TempDir tmp;
  write_bytes(tmp / "old", "x");
  EXPECT_THAT(error_of([&] { ImageWriter{tmp.path()}; }),
              AllOf(HasSubstr(tmp.path() + " is not empty"), HasSubstr("remove the old image")));
  EXPECT_THAT(error_of([&] { ImageWriter{tmp / "old"}; }), HasSubstr("not a directory"));
  EXPECT_THAT(entries(tmp.path()), ElementsAre("old"));  // nothing left behind
}

TEST(ImageWriter, AcceptsAnEmptyDirectoryAndReplacesIt) {
  TempDir tmp;
  std::string dir = tmp / "img";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  {
    ImageWriter writer(dir + "/");  // a trailing slash names the same directory
    writer.add_file("a", "1");
    writer.commit(nullptr);
  }
  EXPECT_EQ(ImageReader(dir).read_file("a"), "1");
  EXPECT_THAT(entries(tmp.path()), ElementsAre("img"));
}

TEST(ImageWriter, WritesIntoAHiddenPartialDirUntilCommit) {
  TempDir tmp;
  std::string dir = tmp / "img";
  ImageWriter writer(dir);
  writer.add_file("a", "1");
  std::string partial = ".img.partial-" + std::to_string(::getpid());
  EXPECT_THAT(entries(tmp.path()), ElementsAre(partial));
  // A reader pointed at the partial directory refuses: it has no manifest yet.
  EXPECT_THAT(error_of([&] { ImageReader{tmp / partial}; }), HasSubstr("no manifest.json"));
  writer.commit(nullptr);
  EXPECT_THAT(entries(tmp.path()), ElementsAre("img"));
  EXPECT_THAT(entries(dir), ElementsAre("a", "manifest.json", "manifest.sum"));
}

TEST(ImageWriter, DestroyedWithoutCommitLeavesNothing) {
  TempDir tmp;
  {
    ImageWriter writer(tmp / "img");
    writer.add_file("a", "1");
    std::string big = random_bytes(3u << 20);
    writer.open_stream("s", CompressionSpec{}).write(big.data(), big.size());
  }
  EXPECT_THAT(entries(tmp.path()), IsEmpty());
}

TEST(ImageWriter, DirectoryIs0700AndFilesAre0600WhateverTheUmask) {
  TempDir tmp;
  std::string dir = tmp / "img";
  mode_t old = ::umask(0);
  {
    ImageWriter writer(dir);
    writer.add_file("a", "1");
    writer.open_stream("s", CompressionSpec{}).write("x", 1);
    writer.open_stream("r", parse_compression("none")).write("x", 1);
    writer.commit(nullptr);
  }
  ::umask(old);
  EXPECT_EQ(mode_of(dir), 0700u);
  for (const auto& name : entries(dir)) {
    SCOPED_TRACE(name);
    EXPECT_EQ(mode_of(dir + "/" + name), 0600u);
  }
  EXPECT_EQ(entries(dir).size(), 5u);
}

TEST(ImageWriter, CommitRefusesADirectoryFilledMeanwhile) {
  TempDir tmp;
  std::string dir = tmp / "img";
  {
    ImageWriter writer(dir);
    writer.add_file("a", "1");
    ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
    write_bytes(dir + "/other", "y");
    EXPECT_THAT(error_of([&] { writer.commit(nullptr); }), HasSubstr(dir + " is not empty"));
  }
  EXPECT_THAT(entries(tmp.path()), ElementsAre("img"));
  EXPECT_THAT(entries(dir), ElementsAre("other"));  // the other content is untouched
}

TEST(ImageWriter, RefusesBadAndDuplicateNames) {
  TempDir tmp;
  ImageWriter writer(tmp / "img");
  writer.add_file("a", "1");
  EXPECT_THAT(error_of([&] { writer.add_file("a", "2"); }), HasSubstr("written twice"));
  EXPECT_THAT(error_of([&] { writer.open_stream("a", CompressionSpec{}); }),
              HasSubstr("written twice"));
  EXPECT_THAT(error_of([&] { writer.add_file("x/y", ""); }), HasSubstr("not a plain file name"));
  EXPECT_THAT(error_of([&] { writer.add_file("..", ""); }), HasSubstr("not a plain file name"));
  EXPECT_THAT(error_of([&] { writer.add_file("manifest.json", ""); }), HasSubstr("reserved"));
}

TEST(ImageWriter, ZstdShrinksCompressibleDataAtLeastFourTimes) {
  TempDir tmp;
  std::string dir = tmp / "img";
  std::string text = compressible_bytes(8u << 20);
  uint64_t stored = 0;
  {
    ImageWriter writer(dir);
    StreamWriter& out = writer.open_stream("pages", parse_compression("zstd"));
    out.write(text.data(), text.size());
    out.finish();
    stored = out.stored_bytes();
    EXPECT_EQ(out.raw_bytes(), text.size());
    writer.commit(nullptr);
  }
  EXPECT_EQ(static_cast<uint64_t>(file_size(dir + "/pages")), stored);
  EXPECT_LE(stored * 4, text.size()) << "stored " << stored << " of " << text.size();
}

TEST(ImageCompression, ParsesGoodSpecs) {
  EXPECT_EQ(parse_compression("none").kind, Compression::none);
  CompressionSpec z = parse_compression("zstd");
  EXPECT_EQ(z.kind, Compression::zstd);
  EXPECT_EQ(z.level, 1);
  EXPECT_EQ(z.threads, 0);
  EXPECT_EQ(parse_compression("zstd:1").level, 1);
  EXPECT_EQ(parse_compression("zstd:19").level, 19);
}

TEST(ImageCompression, RefusesBadSpecsWithAHint) {
  for (const char* bad : {"", "gzip", "zstd:", "zstd:0", "zstd:20", "zstd:-1", "zstd:3x",
                          "zstd:007", "ZSTD", "none:1"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(error_of([&] { parse_compression(bad); }),
                AllOf(HasSubstr("'" + std::string(bad) + "'"), HasSubstr("zstd:LEVEL")));
  }
}

}  // namespace
}  // namespace ckpt::image
