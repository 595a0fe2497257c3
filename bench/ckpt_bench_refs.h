// References of ckpt_bench, measured in the same run on the same bytes as the dump, and the
// warm/cold preparation that precedes every timed step. Header-only (see ckpt_bench_fill.h).
//
// This VM returns memory that stayed free a few seconds to its host; touching it again costs
// ~2.5 s/GiB. So each timed step is preceded by either
//   warm  touching and freeing an allocation of the same size (the guest has it backed), or
//   cold  sleeping ~10 s with that memory free (the host has taken it back).
#pragma once

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "bench/ckpt_bench_fill.h"
#include "common/error.h"
#include "common/file_util.h"

namespace ckpt_bench {

inline double now_s() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

inline void prepare(bool cold, size_t len, int cold_seconds) {
  if (cold) {
    ::sleep(static_cast<unsigned>(cold_seconds));
    return;
  }
  Mapping m(len);
  for (size_t off = 0; off < len; off += 4096) m.data()[off] = 1;
}

// `dd` as the issue means it: LEN bytes of BUF written with write() in 4 MiB blocks and fsync'ed,
// to PATH on the image's file system. The file is removed afterwards (untimed).
inline double dd_seconds(const char* buf, size_t len, const std::string& path) {
  constexpr size_t kBlock = 4 << 20;
  double start = now_s();
  {
    ckpt::UniqueFd fd = ckpt::open_file(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    for (size_t off = 0; off < len; off += kBlock)
      ckpt::write_full(fd.get(), buf + off, std::min(kBlock, len - off), "dd " + path);
    if (::fsync(fd.get()) < 0) throw ckpt::sys_error("fsync " + path);
  }
  double s = now_s() - start;
  ::unlink(path.c_str());
  return s;
}

// memcpy of BUF into freshly mmap'ed memory, first touch included (as a restore pays it);
// the munmap afterwards is not timed.
inline double memcpy_seconds(const char* buf, size_t len) {
  double start = now_s();
  Mapping dst(len);
  std::memcpy(dst.data(), buf, len);
  double s = now_s() - start;
  // Keep the copy from being optimised away.
  if (dst.data()[len - 1] != buf[len - 1]) throw ckpt::Error("memcpy reference miscopied");
  return s;
}

}  // namespace ckpt_bench
