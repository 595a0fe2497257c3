// StreamReader::view(): the restore's zero-copy path. A raw stream hands out its file's mapping
// and still checks every byte against the manifest; other encodings decline (nullptr) and the
// caller reads instead.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "image/image.h"
#include "tests/unit/image_test_util.h"

namespace ckpt::image {
namespace {

using namespace ckpt::image::image_test;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr size_t kSize = (3u << 20) + 4096 * 3 + 17;

struct ViewImage {
  TempDir tmp;
  std::string dir = tmp / "img";
  std::string data = random_bytes(kSize, 11);
  ViewImage() {
    ImageWriter writer(dir);
    CompressionSpec raw;
    raw.kind = Compression::none;
    writer.open_stream("raw", raw).write(data.data(), data.size());
    CompressionSpec zstd;
    zstd.threads = 1;
    writer.open_stream("zst", zstd).write(data.data(), data.size());
    writer.commit({{"kind", "test"}});
  }
  std::string path(const std::string& name) const { return dir + "/" + name; }
};

TEST(ImageStreamView, RawViewsMixedWithReadsGiveEveryByteAndVerify) {
  ViewImage img;
  ImageReader reader(img.dir);
  auto in = reader.open_stream("raw");
  std::string got;
  size_t pos = 0;
  for (size_t i = 0; pos < kSize; ++i) {
    size_t n = std::min<size_t>(i % 2 ? 4096 * 5 + 3 : (1u << 20), kSize - pos);
    if (i % 3 == 2) {
      std::string piece(n, '\0');
      in->read(piece.data(), n);
      got += piece;
    } else {
      const char* p = in->view(n);
      ASSERT_NE(p, nullptr);
      got.append(p, n);
    }
    pos += n;
  }
  EXPECT_TRUE(got == img.data);
  in->finish();
}

TEST(ImageStreamView, ZstdDeclinesAndConsumesNothing) {
  ViewImage img;
  ImageReader reader(img.dir);
  auto in = reader.open_stream("zst");
  EXPECT_EQ(in->view(4096), nullptr);
  std::string got(kSize, '\0');
  in->read(got.data(), got.size());
  EXPECT_TRUE(got == img.data);
  in->finish();
}

TEST(ImageStreamView, FlippedByteSeenThroughViewsFailsTheChecksum) {
  ViewImage img;
  flip_byte(img.path("raw"), static_cast<off_t>(kSize - 5));
  ImageReader reader(img.dir);
  auto in = reader.open_stream("raw");
  ASSERT_NE(in->view(kSize), nullptr);
  EXPECT_THAT(error_of([&] { in->finish(); }),
              AllOf(HasSubstr(img.dir + ": raw"), HasSubstr("checksum mismatch")));
}

TEST(ImageStreamView, FileCutShortWhileMappedIsRefusedNotFaulted) {
  ViewImage img;
  ImageReader reader(img.dir);
  auto in = reader.open_stream("raw");
  ASSERT_NE(in->view(4096), nullptr);
  ASSERT_EQ(::truncate(img.path("raw").c_str(), 100000), 0);
  // The next view crosses into the re-checked region: an error, never a SIGBUS.
  EXPECT_THAT(error_of([&] { in->view(kSize - 4096); }),
              AllOf(HasSubstr(img.dir + ": raw"), HasSubstr("truncated while being read")));
}

TEST(ImageStreamView, ViewPastTheEndIsRefused) {
  ViewImage img;
  ImageReader reader(img.dir);
  auto in = reader.open_stream("raw");
  EXPECT_THAT(error_of([&] { in->view(kSize + 1); }), HasSubstr("asked for"));
}

}  // namespace
}  // namespace ckpt::image
