// The one way crun-ckpt turns text into an integer: command-line arguments, /proc files, state
// files, numbers inside a spec string. std::stoi and friends throw std::invalid_argument whose
// what() is the bare word "stoi", accept leading blanks, a '+' and trailing garbage ("12abc" is
// 12), and istream >> stops silently at the first bad character. These helpers read the whole
// text with std::from_chars and check the range of the target type (or a narrower one given by
// the caller), and on failure throw a ckpt::Error that names what was being parsed:
//
//   signal number '99999999999' is out of range: expected 1 to 64
//   /proc/42/status: Uid '12x' is not a non-negative decimal integer
//
// Callers add where the text came from (with_context) and what to do (with_hint).
// Pure functions, no syscalls.
#pragma once

#include <concepts>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace ckpt {

enum class NumberBase { decimal = 10, hex = 16, octal = 8 };

namespace detail {
// Accept exactly: an optional '-' (signed only) and one or more digits of `base`, nothing else
// (no blanks, no '+', no "0x" prefix: /proc writes hex without one). Throw otherwise.
uint64_t parse_unsigned(std::string_view text, std::string_view what, uint64_t min, uint64_t max,
                        NumberBase base);
int64_t parse_signed(std::string_view text, std::string_view what, int64_t min, int64_t max,
                     NumberBase base);
}  // namespace detail

// `text` as a T in [min, max]; throws ckpt::Error naming `what` otherwise.
template <std::integral T>
T parse_number(std::string_view text, std::string_view what, T min, T max,
               NumberBase base = NumberBase::decimal) {
  if constexpr (std::is_signed_v<T>) {
    return static_cast<T>(detail::parse_signed(text, what, min, max, base));
  } else {
    return static_cast<T>(detail::parse_unsigned(text, what, min, max, base));
  }
}

// `text` as any value of T.
template <std::integral T>
T parse_number(std::string_view text, std::string_view what,
               NumberBase base = NumberBase::decimal) {
  return parse_number<T>(text, what, std::numeric_limits<T>::min(), std::numeric_limits<T>::max(),
                         base);
}

// Blank-separated numbers ("0 0 0 0", "1 42 7"), each a T; empty text gives an empty list.
template <std::integral T>
std::vector<T> parse_numbers(std::string_view text, std::string_view what,
                             NumberBase base = NumberBase::decimal) {
  std::vector<T> out;
  size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n') {
      ++pos;
      continue;
    }
    size_t end = pos;
    while (end < text.size() && text[end] != ' ' && text[end] != '\t' && text[end] != '\n') ++end;
    out.push_back(parse_number<T>(text.substr(pos, end - pos), what, base));
    pos = end;
  }
  return out;
}

}  // namespace ckpt
