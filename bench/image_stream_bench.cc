// Image stream throughput against a dd-equivalent reference measured in the same run.
//
//   image_stream_bench [BYTES[K|M|G]] [DIR] [ROUNDS]    (default 1G in /var/tmp, 1 round)
//
// For random (incompressible) and compressible (memory-like) data it writes BYTES through
// StreamWriter none and zstd (level 1, one worker per CPU) into an ImageWriter, commit
// included (so fsync is included), and the same bytes with write(2) in 4 MiB blocks + fsync
// into a plain file on the same file system. Source buffers are pre-touched (warm); the page
// cache is as found. Ratios are time(stream)/time(dd): the target is <= 1.2 for none, and for
// zstd on compressible data a >= 4x smaller file at <= 2.0. With ROUNDS > 1 the three writers
// run interleaved ROUNDS times and the fastest of each is reported: on a shared machine the
// disk's speed drifts between runs, and interleaving keeps the drift out of the ratios.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/file_util.h"
#include "image/image.h"

namespace {

using Clock = std::chrono::steady_clock;
using ckpt::image::CompressionSpec;

constexpr size_t kChunk = 4u << 20;     // what the dump hands over per call, and dd's block
constexpr size_t kSource = 256u << 20;  // distinct bytes; longer runs repeat the buffer

uint64_t parse_size(const char* text) {
  char* end = nullptr;
  uint64_t n = std::strtoull(text, &end, 10);
  switch (*end) {
    case 'G':
    case 'g':
      return n << 30;
    case 'M':
    case 'm':
      return n << 20;
    case 'K':
    case 'k':
      return n << 10;
    default:
      return n;
  }
}

std::vector<char> random_source() {
  std::vector<char> buf(kSource);
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i + 8 <= buf.size(); i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::memcpy(&buf[i], &x, 8);
  }
  return buf;
}

// Looks like a process heap: runs of zero pages, pointer-ish words, text and small integers.
std::vector<char> compressible_source() {
  std::vector<char> buf(kSource, 0);
  const std::string text = "GET /index.html HTTP/1.1\r\nHost: example\r\nUser-Agent: bench\r\n";
  uint64_t x = 88172645463325252ull;
  for (size_t page = 0; page < kSource / 4096; ++page) {
    char* p = &buf[page * 4096];
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    switch (x % 4) {
      case 0:
        break;  // zero page
      case 1:
        for (size_t i = 0; i < 4096; i += 8) {
          uint64_t ptr = 0x00007f1234560000ull + ((x >> 8) % 4096) * 16 + i;
          std::memcpy(p + i, &ptr, 8);
        }
        break;
      case 2:
        for (size_t i = 0; i + text.size() <= 4096; i += text.size())
          std::memcpy(p + i, text.data(), text.size());
        break;
      default:
        for (size_t i = 0; i < 4096; i += 4) {
          uint32_t v = static_cast<uint32_t>((i * 7 + (x >> 16)) % 1000);
          std::memcpy(p + i, &v, 4);
        }
    }
  }
  return buf;
}

struct Result {
  double seconds;
  uint64_t stored;
};

template <typename Fn>
void each_chunk(const std::vector<char>& src, uint64_t total, Fn&& fn) {
  for (uint64_t done = 0; done < total;) {
    size_t off = done % src.size();
    size_t n = std::min<uint64_t>({kChunk, total - done, src.size() - off});
    fn(src.data() + off, n);
    done += n;
  }
}

Result run_dd(const std::string& dir, const std::vector<char>& src, uint64_t total) {
  std::string path = dir + "/dd.out";
  auto start = Clock::now();
  {
    ckpt::UniqueFd fd = ckpt::open_file(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    each_chunk(src, total,
               [&](const char* p, size_t n) { ckpt::write_full(fd.get(), p, n, path); });
    if (::fsync(fd.get()) < 0) throw ckpt::sys_error("fsync " + path);
  }
  double s = std::chrono::duration<double>(Clock::now() - start).count();
  ::unlink(path.c_str());
  return {s, total};
}

Result run_stream(const std::string& dir, const std::vector<char>& src, uint64_t total,
                  const CompressionSpec& spec) {
  std::string img = dir + "/img";
  uint64_t stored = 0;
  auto start = Clock::now();
  {
    ckpt::image::ImageWriter writer(img);
    auto& out = writer.open_stream("pages", spec);
    each_chunk(src, total, [&](const char* p, size_t n) { out.write(p, n); });
    out.finish();
    stored = out.stored_bytes();
    writer.commit(nullptr);
  }
  double s = std::chrono::duration<double>(Clock::now() - start).count();
  ckpt::remove_tree(img);
  return {s, stored};
}

void report(const char* data, const char* how, const Result& r, const Result& dd, uint64_t total) {
  std::printf("%-13s %-16s %8.0f MiB/s  %6.3f s  x%.2f of dd time  stored %.2fx smaller\n", data,
              how, total / r.seconds / (1 << 20), r.seconds, r.seconds / dd.seconds,
              static_cast<double>(total) / static_cast<double>(r.stored ? r.stored : 1));
}

}  // namespace

int main(int argc, char** argv) {
  try {
    uint64_t total = argc > 1 ? parse_size(argv[1]) : (1ull << 30);
    std::string base = argc > 2 ? argv[2] : "/var/tmp";
    int rounds = argc > 3 ? std::max(1, std::atoi(argv[3])) : 1;
    std::string tmpl = base + "/image-stream-bench-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw ckpt::sys_error("mkdtemp " + tmpl);
    std::string dir = tmpl;

    std::string load = ckpt::read_file("/proc/loadavg");
    std::printf(
        "image_stream_bench: %.0f MiB per run in %s, %zu MiB chunks, best of %d "
        "round(s), warm (source buffers pre-touched, page cache as found), fsync "
        "included everywhere; loadavg %s",
        total / 1048576.0, dir.c_str(), kChunk >> 20, rounds, load.c_str());
    struct Data {
      const char* name;
      std::vector<char> bytes;
    };
    Data sets[] = {{"random", random_source()}, {"compressible", compressible_source()}};
    CompressionSpec none = ckpt::image::parse_compression("none");
    CompressionSpec zstd = ckpt::image::parse_compression("zstd");
    for (const Data& d : sets) {
      Result dd{1e300, 0}, raw{1e300, 0}, z{1e300, 0};
      auto keep_best = [](Result& best, Result r) {
        if (r.seconds < best.seconds) best = r;
      };
      for (int i = 0; i < rounds; ++i) {
        keep_best(dd, run_dd(dir, d.bytes, total));
        keep_best(raw, run_stream(dir, d.bytes, total, none));
        keep_best(z, run_stream(dir, d.bytes, total, zstd));
      }
      report(d.name, "dd (write+fsync)", dd, dd, total);
      report(d.name, "stream none", raw, dd, total);
      report(d.name, "stream zstd:1", z, dd, total);
    }
    ckpt::remove_tree(dir);
    return 0;
  } catch (const ckpt::Error& e) {
    std::fprintf(stderr, "image_stream_bench: %s\n", e.what());
    return 1;
  }
}
