#include "runtime/container/progress.h"

#include <unistd.h>

#include <cstdio>

namespace ckpt::runtime {

ProgressLine::ProgressLine(bool quiet)
    : enabled_(!quiet && ::isatty(2)),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressLine::~ProgressLine() { clear(); }

void ProgressLine::update(const std::string& stage, uint64_t bytes) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (now - start_ < std::chrono::seconds(1)) return;
  if (shown_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  double seconds = std::chrono::duration<double>(now - start_).count();
  std::string rate = human_bytes(static_cast<uint64_t>(static_cast<double>(bytes) / seconds));
  std::fprintf(stderr, "\r\033[K%s: %s, %s/s", stage.c_str(), human_bytes(bytes).c_str(),
               rate.c_str());
  std::fflush(stderr);
  shown_ = true;
}

void ProgressLine::clear() {
  if (!shown_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  shown_ = false;
}

std::string human_bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return buf;
}

}  // namespace ckpt::runtime
