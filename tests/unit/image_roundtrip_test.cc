#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "image/image.h"
#include "tests/unit/image_test_util.h"

namespace ckpt::image {
namespace {

using namespace ckpt::image::image_test;

constexpr size_t kSizes[] = {0, 1, 4096, (10u << 20) + 1};

CompressionSpec spec_of(Compression kind) {
  CompressionSpec spec;
  spec.kind = kind;
  spec.level = 3;
  spec.threads = 2;
  return spec;
}

// Writes `data` in uneven pieces so both the buffered path (small writes) and the direct path
// (large writes) of the raw stream, and many zstd input calls, are used.
void write_uneven(StreamWriter& out, const std::string& data) {
  static constexpr size_t kPieces[] = {1, 4095, 3u << 20, 7, 65536, 1u << 20};
  size_t pos = 0;
  for (size_t i = 0; pos < data.size(); ++i) {
    size_t n = std::min(kPieces[i % std::size(kPieces)], data.size() - pos);
    out.write(data.data() + pos, n);
    pos += n;
  }
}

class ImageStreamRoundTrip : public ::testing::TestWithParam<Compression> {};

TEST_P(ImageStreamRoundTrip, EverySizeComesBackIdentical) {
  TempDir tmp;
  std::string dir = tmp / "img";
  std::vector<std::string> contents;
  {
    ImageWriter writer(dir);
    for (size_t i = 0; i < std::size(kSizes); ++i) {
      contents.push_back(random_bytes(kSizes[i], static_cast<uint32_t>(i + 7)));
      StreamWriter& out = writer.open_stream("s" + std::to_string(i), spec_of(GetParam()));
      write_uneven(out, contents.back());
      EXPECT_EQ(out.raw_bytes(), kSizes[i]);
    }
    writer.commit({{"kind", "test"}});
  }
  ImageReader reader(dir);
  reader.verify_all();
  for (size_t i = 0; i < std::size(kSizes); ++i) {
    std::string name = "s" + std::to_string(i);
    SCOPED_TRACE(name);
    auto in = reader.open_stream(name);
    std::string got(kSizes[i], '\0');
    // Read in pieces that do not line up with the writes.
    size_t pos = 0;
    while (pos < got.size()) {
      size_t n = std::min<size_t>(pos % 2 ? 1u << 20 : 12345, got.size() - pos);
      in->read(got.data() + pos, n);
      pos += n;
    }
    in->finish();
    EXPECT_TRUE(got == contents[i]);
    const auto& entry = reader.manifest()["files"][name];
    EXPECT_EQ(entry["raw_size"], kSizes[i]);
    EXPECT_EQ(entry["compression"], GetParam() == Compression::zstd ? "zstd" : "none");
    EXPECT_EQ(entry["size"].get<off_t>(), file_size(dir + "/" + name));
  }
}

TEST_P(ImageStreamRoundTrip, SkipThenReadGivesTheRightBytes) {
  TempDir tmp;
  std::string dir = tmp / "img";
  std::string data = random_bytes(3u << 20, 3);
  {
    ImageWriter writer(dir);
    writer.open_stream("pages", spec_of(GetParam())).write(data.data(), data.size());
    writer.commit(nullptr);
  }
  ImageReader reader(dir);
  auto in = reader.open_stream("pages");
  in->skip(1000);
  std::string got(5000, '\0');
  in->read(got.data(), got.size());
  EXPECT_TRUE(got == data.substr(1000, 5000));
  in->skip(data.size() - 6000);
  in->finish();
}

TEST_P(ImageStreamRoundTrip, ReadFileOfAStreamGivesTheDecompressedBytes) {
  TempDir tmp;
  std::string dir = tmp / "img";
  std::string data = compressible_bytes(100000);
  {
    ImageWriter writer(dir);
    writer.open_stream("pages", spec_of(GetParam())).write(data.data(), data.size());
    writer.commit(nullptr);
  }
  EXPECT_TRUE(ImageReader(dir).read_file("pages") == data);
}

INSTANTIATE_TEST_SUITE_P(Image, ImageStreamRoundTrip,
                         ::testing::Values(Compression::none, Compression::zstd),
                         [](const auto& info) {
                           return std::string(info.param == Compression::zstd ? "zstd" : "none");
                         });

TEST(ImageFileRoundTrip, EverySizeComesBackIdentical) {
  TempDir tmp;
  std::string dir = tmp / "img";
  {
    ImageWriter writer(dir);
    for (size_t size : kSizes) writer.add_file("f" + std::to_string(size), random_bytes(size));
    writer.commit(nullptr);
  }
  ImageReader reader(dir);
  for (size_t size : kSizes) {
    SCOPED_TRACE(size);
    EXPECT_TRUE(reader.read_file("f" + std::to_string(size)) == random_bytes(size));
  }
  reader.verify_all();
}

TEST(ImageManifest, RecordsHostFactsFilesAndBody) {
  TempDir tmp;
  std::string dir = tmp / "img";
  nlohmann::json body = {{"tasks", {{{"pid", 1}, {"comm", "init"}}}}, {"hostname", "box"}};
  {
    ImageWriter writer(dir);
    writer.add_file("spec.json", "{}");
    writer.open_stream("pages", spec_of(Compression::zstd)).write("abc", 3);
    writer.commit(body);
    EXPECT_GT(writer.stored_bytes(), 0u);
  }
  ImageReader reader(dir);
  const auto& m = reader.manifest();
  EXPECT_EQ(m["magic"], kMagic);
  EXPECT_EQ(m["format_version"], kFormatVersion);
  EXPECT_EQ(m["arch"], "x86_64");
  EXPECT_FALSE(m["kernel"].get<std::string>().empty());
  EXPECT_THAT(m["created"].get<std::string>(),
              ::testing::MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"));
  EXPECT_EQ(reader.body(), body);
  EXPECT_EQ(reader.files(), (std::vector<std::string>{"pages", "spec.json"}));
  EXPECT_EQ(m["files"]["spec.json"]["size"], 2);
  EXPECT_EQ(m["files"]["spec.json"]["xxh128"], xxh128_hex("{}"));
  EXPECT_FALSE(m["files"]["spec.json"].contains("raw_size"));
  EXPECT_EQ(m["files"]["pages"]["raw_size"], 3);
  EXPECT_EQ(read_file(dir + "/manifest.sum"), xxh128_hex(read_file(dir + "/manifest.json")) + "\n");
}

TEST(ImageChecksum, StreamingEqualsOneShotAndIsStableHex) {
  std::string data = random_bytes(100000);
  Xxh128 sum;
  sum.update(data.data(), 1);
  sum.update(data.data() + 1, data.size() - 1);
  EXPECT_EQ(sum.hex(), xxh128_hex(data));
  EXPECT_TRUE(is_xxh128_hex(sum.hex()));
  EXPECT_NE(xxh128_hex("a"), xxh128_hex("b"));
  // XXH3-128 of the empty input, canonical (big-endian) form.
  EXPECT_EQ(xxh128_hex(""), "99aa06d3014798d86001c324468d497f");
}

}  // namespace
}  // namespace ckpt::image
