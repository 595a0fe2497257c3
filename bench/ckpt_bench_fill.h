// The bytes ckpt_bench checkpoints, and the container workload that holds them. Header-only
// because bench/CMakeLists.txt builds each *_bench.cc alone.
//
// The same function fills the workload's memory inside the container and the reference buffer
// in the bench, from the same seed, so dd and memcpy move exactly the bytes the dump moves.
//   random        xorshift64 words: incompressible
//   compressible  English-like text: words drawn pseudo-randomly from a 32-word list, a
//                 numbered line every ~64 bytes; zstd gets several times, not hundreds of times,
//                 as real heaps of strings do.
#pragma once

#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "common/error.h"
#include "common/file_util.h"

namespace ckpt_bench {

enum class Kind { kRandom, kCompressible };

inline const char* kind_name(Kind k) {
  return k == Kind::kRandom ? "random" : "compress";
}

inline Kind parse_kind(const std::string& s) {
  if (s == "random") return Kind::kRandom;
  if (s == "compressible") return Kind::kCompressible;
  throw ckpt::Error("unknown memory kind '" + s + "'", EINVAL, "use random or compressible");
}

inline uint64_t next(uint64_t& x) {
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return x;
}

inline void fill(Kind kind, char* mem, size_t len, uint64_t seed) {
  uint64_t x = seed | 1;
  if (kind == Kind::kRandom) {
    auto* w = reinterpret_cast<uint64_t*>(mem);
    for (size_t i = 0; i < len / 8; ++i) w[i] = next(x);
    return;
  }
  static const char* const kWords[32] = {
      "the ",    "memory ",   "page ",   "of ",      "a ",       "container ", "is ",   "dumped ",
      "and ",    "restored ", "with ",   "its ",     "process ", "tree ",      "to ",   "image ",
      "file ",   "kernel ",   "frozen ", "thread ",  "signal ",  "mapping ",   "in ",   "zstd ",
      "stream ", "check ",    "sum ",    "restore ", "time ",    "each ",      "task ", "value "};
  size_t pos = 0, line = 0;
  char num[32];
  while (pos < len) {
    int n = std::snprintf(num, sizeof num, "\n%zu: ", line++);
    for (int i = 0; i < n && pos < len; ++i) mem[pos++] = num[i];
    for (int w = 0; w < 8 && pos < len; ++w) {
      const char* word = kWords[next(x) & 31];
      size_t wl = std::strlen(word);
      if (wl > len - pos) wl = len - pos;
      std::memcpy(mem + pos, word, wl);
      pos += wl;
    }
  }
}

// FNV-1a over words: what the workload recomputes after the restore.
inline uint64_t digest(const char* mem, size_t len) {
  uint64_t h = 0xcbf29ce484222325ULL;
  const auto* w = reinterpret_cast<const uint64_t*>(mem);
  for (size_t i = 0; i < len / 8; ++i) h = (h ^ w[i]) * 0x100000001b3ULL;
  return h;
}

// A private anonymous mapping, unmapped on scope exit.
class Mapping {
 public:
  explicit Mapping(size_t len) : len_(len) {
    void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw ckpt::sys_error("mmap " + std::to_string(len >> 20) + " MiB");
    p_ = static_cast<char*>(p);
  }
  ~Mapping() { ::munmap(p_, len_); }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  char* data() const { return p_; }
  size_t size() const { return len_; }

 private:
  char* p_;
  size_t len_;
};

inline volatile sig_atomic_t* report_flag() {
  static volatile sig_atomic_t flag = 0;
  return &flag;
}

// `ckpt_bench --workload KIND DIR MIB SEED`, run as the container's process: fills MIB MiB,
// writes DIR/ready, then idles; on SIGUSR1 it recomputes the digest and writes DIR/report
// ("ok" or "bad"), so the bench knows the restored memory is the dumped memory.
inline int workload_main(Kind kind, const std::string& dir, size_t mib, uint64_t seed) {
  Mapping mem(mib << 20);
  fill(kind, mem.data(), mem.size(), seed);
  const uint64_t start = digest(mem.data(), mem.size());
  struct sigaction sa {};
  sa.sa_handler = [](int) { *report_flag() = 1; };
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGUSR1, &sa, nullptr);
  ckpt::write_file_atomic(dir + "/ready", "ready\n");
  for (;;) {
    if (*report_flag()) {
      *report_flag() = 0;
      bool ok = digest(mem.data(), mem.size()) == start;
      ckpt::write_file_atomic(dir + "/report", ok ? "ok\n" : "bad\n");
    }
    timespec ts{0, 10'000'000};
    ::nanosleep(&ts, nullptr);
  }
}

}  // namespace ckpt_bench
