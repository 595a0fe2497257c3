// A restore must refuse, naming the file, any image that is damaged, truncated, tampered with
// or newer than this reader.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "common/error.h"
#include "image/image.h"
#include "tests/unit/image_test_util.h"

namespace ckpt::image {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using namespace ckpt::image::image_test;

CompressionSpec spec_of(Compression kind) {
  CompressionSpec spec;
  spec.kind = kind;
  return spec;
}

// An image with a plain file and two 1 MiB streams, one raw, one zstd.
struct Image {
  Image() {
    ImageWriter writer(dir);
    writer.add_file("meta", "metadata blob");
    writer.open_stream("raw", spec_of(Compression::none)).write(data.data(), data.size());
    writer.open_stream("zst", spec_of(Compression::zstd)).write(data.data(), data.size());
    writer.commit({{"k", 1}});
  }
  std::string path(const std::string& name) const { return dir + "/" + name; }

  // Reads the whole stream and finishes it; whatever throws is the refusal.
  void read_stream(const std::string& name) const {
    ImageReader reader(dir);
    auto in = reader.open_stream(name);
    std::string got(data.size(), '\0');
    in->read(got.data(), got.size());
    in->finish();
  }

  TempDir tmp;
  std::string dir = tmp / "img";
  std::string data = compressible_bytes(1u << 20);
};

TEST(ImageCorruption, FlippedByteInRawStreamIsRefusedNamingTheFile) {
  Image img;
  flip_byte(img.path("raw"), 500000);
  EXPECT_THAT(error_of([&] { img.read_stream("raw"); }),
              AllOf(HasSubstr(img.dir), HasSubstr("raw"), HasSubstr("checksum mismatch")));
  EXPECT_THAT(error_of([&] { ImageReader(img.dir).verify_all(); }),
              AllOf(HasSubstr(img.dir + ": raw"), HasSubstr("checksum mismatch")));
}

TEST(ImageCorruption, FlippedByteInZstdStreamIsRefusedNamingTheFile) {
  Image img;
  // In the middle of the compressed data, and in the frame's trailing content checksum.
  for (off_t offset : {file_size(img.path("zst")) / 2, file_size(img.path("zst")) - 2}) {
    SCOPED_TRACE(offset);
    flip_byte(img.path("zst"), offset);
    EXPECT_THAT(error_of([&] { img.read_stream("zst"); }), HasSubstr(img.dir + ": zst"));
    EXPECT_THAT(error_of([&] { ImageReader(img.dir).verify_all(); }),
                AllOf(HasSubstr(img.dir + ": zst"), HasSubstr("checksum mismatch")));
    flip_byte(img.path("zst"), offset);  // back to good for the next offset
    img.read_stream("zst");
  }
}

TEST(ImageCorruption, FlippedByteInFileIsRefusedNamingTheFile) {
  Image img;
  flip_byte(img.path("meta"), 3);
  ImageReader reader(img.dir);
  EXPECT_THAT(error_of([&] { reader.read_file("meta"); }),
              AllOf(HasSubstr(img.dir + ": meta"), HasSubstr("checksum mismatch")));
}

TEST(ImageCorruption, FlippedByteInManifestIsRefused) {
  Image img;
  flip_byte(img.path("manifest.json"), 40);
  EXPECT_THAT(error_of([&] { ImageReader{img.dir}; }),
              AllOf(HasSubstr(img.dir + ": manifest.json"), HasSubstr("checksum mismatch")));
}

TEST(ImageCorruption, TruncatedStreamIsRefusedWithTheByteWhereDataEnds) {
  for (const char* name : {"raw", "zst"}) {
    SCOPED_TRACE(name);
    Image img;
    off_t size = file_size(img.path(name));
    ASSERT_EQ(::truncate(img.path(name).c_str(), size / 2), 0);
    std::string expected = "data ends at byte " + std::to_string(size / 2);
    EXPECT_THAT(
        error_of([&] { img.read_stream(name); }),
        AllOf(HasSubstr(img.dir + ": " + name), HasSubstr("truncated"), HasSubstr(expected)));
    EXPECT_THAT(error_of([&] { ImageReader(img.dir).verify_all(); }),
                AllOf(HasSubstr(name), HasSubstr(expected)));
  }
}

TEST(ImageCorruption, StreamTruncatedWhileBeingReadIsRefused) {
  Image img;
  ImageReader reader(img.dir);
  auto in = reader.open_stream("raw");
  std::string got(4096, '\0');
  in->read(got.data(), got.size());
  ASSERT_EQ(::truncate(img.path("raw").c_str(), 100000), 0);
  got.resize(img.data.size() - 4096);
  EXPECT_THAT(error_of([&] { in->read(got.data(), got.size()); }),
              AllOf(HasSubstr(img.dir + ": raw"), HasSubstr("data ends at byte 100000")));
}

TEST(ImageCorruption, AppendedBytesAreRefused) {
  Image img;
  {
    UniqueFd fd = open_file(img.path("zst"), O_WRONLY | O_APPEND);
    write_full(fd.get(), "x", 1, "append");
  }
  EXPECT_THAT(error_of([&] { img.read_stream("zst"); }), HasSubstr(img.dir + ": zst"));
}

TEST(ImageCorruption, ReadingPastTheEndOrFinishingEarlyIsRefused) {
  Image img;
  ImageReader reader(img.dir);
  for (const char* name : {"raw", "zst"}) {
    SCOPED_TRACE(name);
    auto in = reader.open_stream(name);
    std::string got(img.data.size() + 1, '\0');
    EXPECT_THAT(error_of([&] { in->read(got.data(), got.size()); }), HasSubstr("asked for"));
    in->read(got.data(), 10);
    EXPECT_THAT(error_of([&] { in->finish(); }), HasSubstr("before its end"));
  }
}

TEST(ImageCorruption, NewerFormatIsRefusedWithTheUpgradeMessage) {
  Image img;
  rewrite_manifest(img.dir,
                   [](nlohmann::json& doc) { doc["format_version"] = kFormatVersion + 1; });
  EXPECT_THAT(error_of([&] { ImageReader{img.dir}; }),
              HasSubstr("image " + img.dir + " was written by a newer crun-ckpt (format " +
                        std::to_string(kFormatVersion + 1) + ", this one reads up to " +
                        std::to_string(kFormatVersion) + "): upgrade crun-ckpt to restore it"));
}

TEST(ImageCorruption, OlderOrEqualFormatIsAccepted) {
  Image img;
  rewrite_manifest(img.dir, [](nlohmann::json& doc) { doc["unknown_future_field"] = 1; });
  ImageReader reader(img.dir);
  EXPECT_EQ(reader.body()["k"], 1);
}

TEST(ImageCorruption, BadMagicIsRefused) {
  Image img;
  rewrite_manifest(img.dir, [](nlohmann::json& doc) { doc["magic"] = "criu"; });
  EXPECT_THAT(error_of([&] { ImageReader{img.dir}; }),
              AllOf(HasSubstr(img.dir + ": manifest.json"), HasSubstr("magic"),
                    HasSubstr("not a crun-ckpt image")));
}

TEST(ImageCorruption, ManifestEntryThatLiesIsRefused) {
  Image img;
  rewrite_manifest(img.dir, [](nlohmann::json& doc) { doc["files"]["meta"]["size"] = "big"; });
  EXPECT_THAT(error_of([&] { ImageReader{img.dir}; }),
              AllOf(HasSubstr("manifest.json"), HasSubstr("files.meta")));
  rewrite_manifest(
      img.dir, [](nlohmann::json& doc) { doc["files"]["../etc/passwd"] = doc["files"]["raw"]; });
  EXPECT_THAT(error_of([&] { ImageReader{img.dir}; }), HasSubstr("not a plain file name"));
}

TEST(ImageCorruption, MissingFileListedInManifestIsRefused) {
  Image img;
  ASSERT_EQ(::unlink(img.path("meta").c_str()), 0);
  EXPECT_THAT(error_of([&] { ImageReader(img.dir).verify_all(); }),
              AllOf(HasSubstr(img.dir + ": meta"), HasSubstr("missing")));
}

TEST(ImageCorruption, DirectoryWithoutManifestIsNotAnImage) {
  TempDir tmp;
  EXPECT_THAT(error_of([&] { ImageReader{tmp.path()}; }),
              HasSubstr(tmp.path() + " is not a crun-ckpt image (no manifest.json): an "
                                     "interrupted checkpoint leaves no image; take the "
                                     "checkpoint again"));
  EXPECT_THAT(error_of([&] { ImageReader{tmp / "absent"}; }),
              AllOf(HasSubstr(tmp / "absent"), HasSubstr("is not a crun-ckpt image")));
}

TEST(ImageCorruption, UnknownFileNameIsRefused) {
  Image img;
  EXPECT_THAT(error_of([&] { ImageReader(img.dir).read_file("nope"); }),
              AllOf(HasSubstr(img.dir), HasSubstr("nope")));
}

}  // namespace
}  // namespace ckpt::image
