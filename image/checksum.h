// XXH3 128-bit checksums of image files, as 32 lowercase hex digits (the canonical big-endian
// form, so the text is the same on every host). Streaming: update() as bytes go by, so a stream
// is checksummed while it is written or read, never in a second pass.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

struct XXH3_state_s;

namespace ckpt::image {

class Xxh128 {
 public:
  Xxh128();
  ~Xxh128();
  Xxh128(const Xxh128&) = delete;
  Xxh128& operator=(const Xxh128&) = delete;
  Xxh128(Xxh128&&) noexcept;
  Xxh128& operator=(Xxh128&&) noexcept;

  void update(const void* data, size_t len);
  // The digest of everything given so far; update() may continue afterwards.
  std::string hex() const;

 private:
  struct Free {
    void operator()(XXH3_state_s* state) const;
  };
  std::unique_ptr<XXH3_state_s, Free> state_;
};

std::string xxh128_hex(std::string_view bytes);

// True for exactly 32 lowercase hex digits, the form the manifest stores.
bool is_xxh128_hex(std::string_view text);

}  // namespace ckpt::image
