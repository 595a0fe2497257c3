// An image holds regular files only. A member (or manifest.json, manifest.sum) replaced by a
// symbolic link, a FIFO or a directory must be refused at once, naming the file, never hang
// verify or restore in open(2)/read(2) or read something outside the image. And an image
// taken on another architecture is refused before a restore starts.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <functional>

#include "common/error.h"
#include "image/image.h"
#include "tests/unit/image_test_util.h"

namespace ckpt::image {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using namespace ckpt::image::image_test;

struct Image {
  Image() {
    ImageWriter writer(dir);
    writer.add_file("meta", "metadata blob");
    CompressionSpec raw;
    raw.kind = Compression::none;
    writer.open_stream("raw", raw).write(data.data(), data.size());
    writer.commit({{"k", 1}});
  }
  std::string path(const std::string& name) const { return dir + "/" + name; }
  // Moves member `name` aside (outside the image) and returns where it went.
  std::string move_out(const std::string& name) const {
    std::string aside = tmp / (name + ".aside");
    EXPECT_EQ(::rename(path(name).c_str(), aside.c_str()), 0);
    return aside;
  }

  TempDir tmp;
  std::string dir = tmp / "img";
  std::string data = compressible_bytes(256u << 10);
};

// Runs fn in a child process and returns the ckpt::Error text it ended with ("" if none, so
// the caller's expectation fails), or "TIMED OUT" if it was still blocked after 10 s: the bug
// this guards against is a hang, and a test must fail on it rather than hang too.
std::string error_within_10s(const std::function<void()>& fn) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) return "pipe failed";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    std::string out;
    try {
      fn();
    } catch (const Error& e) {
      out = e.what();
    } catch (const std::exception& e) {
      out = std::string("not a ckpt::Error: ") + e.what();
    }
    ssize_t ignored = ::write(fds[1], out.data(), out.size());
    (void)ignored;
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string out;
  pollfd pfd = {fds[0], POLLIN, 0};
  bool timed_out = false;
  for (;;) {
    int n = ::poll(&pfd, 1, 10000);
    if (n == 0) {
      timed_out = true;
      break;
    }
    if (n < 0) continue;
    char buf[1024];
    ssize_t r = ::read(fds[0], buf, sizeof buf);
    if (r <= 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  ::close(fds[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return timed_out ? "TIMED OUT" : out;
}

void verify(const std::string& dir) {
  ImageReader(dir).verify_all();
}
void read_meta(const std::string& dir) {
  ImageReader(dir).read_file("meta");
}
void read_raw(const std::string& dir) {
  auto in = ImageReader(dir).open_stream("raw");
  std::string got(1024, '\0');
  in->read(got.data(), got.size());
}

TEST(ImageMembers, SymlinkToTheSameBytesOutsideTheImageIsRefused) {
  Image img;
  // The link points at the member's very bytes: only refusing links catches this.
  std::string aside = img.move_out("raw");
  ASSERT_EQ(::symlink(aside.c_str(), img.path("raw").c_str()), 0);
  for (auto* op : {&verify, &read_raw}) {
    EXPECT_THAT(
        error_within_10s([&] { op(img.dir); }),
        AllOf(HasSubstr("image " + img.dir + ": raw is a symbolic link, not a regular file"),
              HasSubstr("take the checkpoint again")));
  }
}

TEST(ImageMembers, SymlinkToAFifoOrADeviceDoesNotHang) {
  Image img;
  std::string fifo = img.tmp / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  ASSERT_EQ(::unlink(img.path("meta").c_str()), 0);
  ASSERT_EQ(::symlink(fifo.c_str(), img.path("meta").c_str()), 0);
  for (auto* op : {&verify, &read_meta})
    EXPECT_THAT(error_within_10s([&] { op(img.dir); }), HasSubstr(": meta is a symbolic link"));

  ASSERT_EQ(::unlink(img.path("raw").c_str()), 0);
  ASSERT_EQ(::symlink("/dev/zero", img.path("raw").c_str()), 0);
  EXPECT_THAT(error_within_10s([&] { read_raw(img.dir); }), HasSubstr(": raw is a symbolic link"));
}

TEST(ImageMembers, FifoOrDirectoryInPlaceOfAMemberIsRefused) {
  Image img;
  ASSERT_EQ(::unlink(img.path("meta").c_str()), 0);
  ASSERT_EQ(::mkfifo(img.path("meta").c_str(), 0600), 0);
  EXPECT_THAT(error_within_10s([&] { verify(img.dir); }),
              HasSubstr("image " + img.dir + ": meta is a FIFO, not a regular file"));
  EXPECT_THAT(error_within_10s([&] { read_meta(img.dir); }), HasSubstr(": meta is a FIFO"));
  ASSERT_EQ(::unlink(img.path("raw").c_str()), 0);
  ASSERT_EQ(::mkdir(img.path("raw").c_str(), 0700), 0);
  EXPECT_THAT(error_within_10s([&] { read_raw(img.dir); }),
              HasSubstr(": raw is a directory, not a regular file"));
}

TEST(ImageMembers, ManifestThatIsASymlinkOrFifoIsRefused) {
  for (const char* name : {"manifest.json", "manifest.sum"}) {
    SCOPED_TRACE(name);
    Image img;
    std::string aside = img.move_out(name);
    ASSERT_EQ(::symlink(aside.c_str(), img.path(name).c_str()), 0);
    EXPECT_THAT(error_within_10s([&] { ImageReader{img.dir}; }),
                HasSubstr("image " + img.dir + ": " + name + " is a symbolic link"));
    ASSERT_EQ(::unlink(img.path(name).c_str()), 0);
    ASSERT_EQ(::mkfifo(img.path(name).c_str(), 0600), 0);
    EXPECT_THAT(error_within_10s([&] { ImageReader{img.dir}; }),
                HasSubstr("image " + img.dir + ": " + name + " is a FIFO"));
  }
}

TEST(ImageMembers, TheImageDirectoryMayBeReachedThroughALink) {
  Image img;
  std::string link = img.tmp / "link";
  ASSERT_EQ(::symlink(img.dir.c_str(), link.c_str()), 0);
  ImageReader reader(link);
  reader.verify_all();
  EXPECT_EQ(reader.read_file("meta"), "metadata blob");
  std::string fifo = img.tmp / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_THAT(error_within_10s([&] { ImageReader{fifo}; }),
              HasSubstr(fifo + " is not a crun-ckpt image (not a directory)"));
}

std::string other_arch() {
  struct utsname uts {};
  ::uname(&uts);
  return std::string(uts.machine) == "aarch64" ? "x86_64" : "aarch64";
}

TEST(ImageArch, ImageFromAnotherArchitectureIsRefusedForRestore) {
  Image img;
  struct utsname uts {};
  ::uname(&uts);
  ImageReader(img.dir).check_host_arch();  // this host's own image
  std::string arch = other_arch();
  rewrite_manifest(img.dir, [&](nlohmann::json& doc) { doc["arch"] = arch; });
  ImageReader reader(img.dir);
  EXPECT_EQ(error_of([&] { reader.check_host_arch(); }),
            "image " + img.dir + " was taken on " + arch + ", this host is " + uts.machine +
                " (restore it on a host where uname -m says " + arch + ")");
  // Inspecting and verifying it still work: only running it here is impossible.
  reader.verify_all();
  EXPECT_EQ(reader.body()["k"], 1);
}

TEST(ImageArch, MissingArchIsRefused) {
  Image img;
  rewrite_manifest(img.dir, [&](nlohmann::json& doc) { doc.erase("arch"); });
  EXPECT_THAT(error_of([&] { ImageReader(img.dir).check_host_arch(); }),
              AllOf(HasSubstr(img.dir + ": manifest.json"), HasSubstr("arch missing")));
}

}  // namespace
}  // namespace ckpt::image
