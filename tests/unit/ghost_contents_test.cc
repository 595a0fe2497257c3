// The contents of deleted files (files/ghost_contents.h) through a real image: a sparse file's
// data runs are found, stored, and written back byte-exact with its holes still holes. Plain
// file I/O in a temporary directory; no privileges.
#include "runtime/files/ghost_contents.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/file_util.h"
#include "image/image.h"
#include "image_test_util.h"

namespace ckpt::files {
namespace {

using image::image_test::random_bytes;
using image::image_test::TempDir;

constexpr uint64_t kMib = 1 << 20;

void write_at(int fd, const std::string& bytes, uint64_t offset) {
  ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)),
            static_cast<ssize_t>(bytes.size()));
}

std::string contents(int fd, uint64_t size) {
  std::string out(size, '\0');
  EXPECT_EQ(::pread(fd, out.data(), size, 0), static_cast<ssize_t>(size));
  return out;
}

TEST(GhostContents, SparseFileRoundTripsThroughAnImageWithItsHoles) {
  TempDir dir;
  UniqueFd src = open_file(dir / "src", O_RDWR | O_CREAT | O_EXCL, 0600);
  // Data at 0 and at 4 MiB, a hole between, and a hole at the end (size 8 MiB + 100).
  std::string head = random_bytes(12345, 1), middle = random_bytes(70000, 2);
  write_at(src.get(), head, 0);
  write_at(src.get(), middle, 4 * kMib);
  const uint64_t size = 8 * kMib + 100;
  ASSERT_EQ(::ftruncate(src.get(), size), 0);

  std::vector<model::DataRun> runs = data_runs(src.get(), size);
  ASSERT_GE(runs.size(), 2u);
  uint64_t stored = run_bytes(runs);
  EXPECT_GE(stored, head.size() + middle.size());
  EXPECT_LT(stored, 1 * kMib) << "the holes were read as data";
  for (size_t i = 1; i < runs.size(); ++i)
    EXPECT_GE(runs[i].offset, runs[i - 1].offset + runs[i - 1].length);

  {
    image::ImageWriter writer(dir / "image");
    image::StreamWriter& out =
        writer.open_stream("ghost-1", image::CompressionSpec{image::Compression::zstd, 1, 1});
    EXPECT_EQ(copy_runs(src.get(), runs, out), stored);
    out.finish();
    writer.commit(nlohmann::json::object());
  }
  image::ImageReader reader(dir / "image");
  UniqueFd dst = open_file(dir / "dst", O_RDWR | O_CREAT | O_EXCL, 0600);
  auto in = reader.open_stream("ghost-1");
  fill_runs(dst.get(), runs, size, *in);

  struct stat st {};
  ASSERT_EQ(::fstat(dst.get(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), size);
  EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, 2 * kMib) << "holes were filled in";
  EXPECT_EQ(contents(dst.get(), size), contents(src.get(), size));
}

TEST(GhostContents, EmptyAndAllHoleFilesHaveNoRuns) {
  TempDir dir;
  UniqueFd f = open_file(dir / "f", O_RDWR | O_CREAT | O_EXCL, 0600);
  EXPECT_TRUE(data_runs(f.get(), 0).empty());
  ASSERT_EQ(::ftruncate(f.get(), 3 * kMib), 0);
  EXPECT_TRUE(data_runs(f.get(), 3 * kMib).empty());
}

TEST(GhostContents, ARunBeyondTheSizeIsRefused) {
  TempDir dir;
  {
    image::ImageWriter writer(dir / "image");
    image::StreamWriter& out =
        writer.open_stream("g", image::CompressionSpec{image::Compression::none, 1, 0});
    out.write("abcd", 4);
    writer.commit(nlohmann::json::object());
  }
  image::ImageReader reader(dir / "image");
  UniqueFd dst = open_file(dir / "dst", O_RDWR | O_CREAT | O_EXCL, 0600);
  auto in = reader.open_stream("g");
  try {
    fill_runs(dst.get(), {{10, 4}}, 12, *in);
    FAIL() << "accepted a run past the end of the file";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("beyond the size 12"), std::string::npos) << e.what();
  }
}

TEST(GhostContents, AStreamLongerThanItsRunsIsRefused) {
  TempDir dir;
  {
    image::ImageWriter writer(dir / "image");
    image::StreamWriter& out =
        writer.open_stream("g", image::CompressionSpec{image::Compression::none, 1, 0});
    out.write("abcdef", 6);
    writer.commit(nlohmann::json::object());
  }
  image::ImageReader reader(dir / "image");
  UniqueFd dst = open_file(dir / "dst", O_RDWR | O_CREAT | O_EXCL, 0600);
  auto in = reader.open_stream("g");
  EXPECT_THROW(fill_runs(dst.get(), {{0, 4}}, 4, *in), Error);
}

}  // namespace
}  // namespace ckpt::files
