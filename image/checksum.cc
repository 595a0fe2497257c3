#include "image/checksum.h"

#include <xxhash.h>

#include <new>

namespace ckpt::image {

void Xxh128::Free::operator()(XXH3_state_s* state) const {
  XXH3_freeState(state);
}

Xxh128::Xxh128() : state_(XXH3_createState()) {
  if (!state_) throw std::bad_alloc();
  XXH3_128bits_reset(state_.get());
}

Xxh128::~Xxh128() = default;
Xxh128::Xxh128(Xxh128&&) noexcept = default;
Xxh128& Xxh128::operator=(Xxh128&&) noexcept = default;

void Xxh128::update(const void* data, size_t len) {
  // XXH3_128bits_update only fails on a null state, which the constructor rules out.
  if (len > 0) XXH3_128bits_update(state_.get(), data, len);
}

std::string Xxh128::hex() const {
  XXH128_canonical_t canon;
  XXH128_canonicalFromHash(&canon, XXH3_128bits_digest(state_.get()));
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * sizeof canon.digest);
  for (unsigned char byte : canon.digest) {
    out += kDigits[byte >> 4];
    out += kDigits[byte & 0xf];
  }
  return out;
}

std::string xxh128_hex(std::string_view bytes) {
  Xxh128 sum;
  sum.update(bytes.data(), bytes.size());
  return sum.hex();
}

bool is_xxh128_hex(std::string_view text) {
  return text.size() == 32 && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace ckpt::image
