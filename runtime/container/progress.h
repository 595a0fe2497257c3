// One progress line on stderr for long checkpoints and restores: shown only on a terminal,
// only after the operation has taken a second, redrawn at most 10 times a second, and erased
// at the end so scripts and logs get a clean last line.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace ckpt::runtime {

class ProgressLine {
 public:
  explicit ProgressLine(bool quiet);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  void update(const std::string& stage, uint64_t bytes);
  void clear();

 private:
  bool enabled_ = false;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

// "1.5 GiB", "312.0 MiB", "4.0 KiB".
std::string human_bytes(uint64_t bytes);

}  // namespace ckpt::runtime
