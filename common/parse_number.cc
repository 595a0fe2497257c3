#include "common/parse_number.h"

#include <charconv>

#include "common/error.h"

namespace ckpt::detail {

namespace {

const char* base_name(NumberBase base) {
  switch (base) {
    case NumberBase::hex:
      return "hexadecimal";
    case NumberBase::octal:
      return "octal";
    case NumberBase::decimal:
      break;
  }
  return "decimal";
}

// "a non-negative octal integer", "a decimal integer": what the text should have been.
std::string expected_kind(NumberBase base, bool allow_minus) {
  std::string name = base_name(base);
  if (!allow_minus) return "a non-negative " + name + " integer";
  return (base == NumberBase::octal ? "an " : "a ") + name + " integer";
}

bool is_digit_of(char c, NumberBase base) {
  switch (base) {
    case NumberBase::octal:
      return c >= '0' && c <= '7';
    case NumberBase::hex:
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    case NumberBase::decimal:
      break;
  }
  return c >= '0' && c <= '9';
}

// Long input (a pasted blob) is cut in the message, which must stay one readable line.
std::string shown(std::string_view text) {
  constexpr size_t kMax = 40;
  std::string out(text.substr(0, kMax));
  if (text.size() > kMax) out += "...";
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return "'" + out + "'";
}

// The digits after an optional sign, checked to be nothing but digits: from_chars alone would
// stop at the first other character and report success for "12abc".
std::string_view checked_digits(std::string_view text, std::string_view what, NumberBase base,
                                bool allow_minus) {
  std::string_view digits = text;
  if (allow_minus && !digits.empty() && digits[0] == '-') digits.remove_prefix(1);
  bool ok = !digits.empty();
  for (char c : digits) ok = ok && is_digit_of(c, base);
  if (!ok) {
    if (text.empty()) throw Error(std::string(what) + " is empty");
    throw Error(std::string(what) + " " + shown(text) + " is not " +
                expected_kind(base, allow_minus));
  }
  return digits;
}

template <typename T>
Error out_of_range(std::string_view text, std::string_view what, T min, T max) {
  return Error(std::string(what) + " " + shown(text) + " is out of range: expected " +
               std::to_string(min) + " to " + std::to_string(max));
}

}  // namespace

uint64_t parse_unsigned(std::string_view text, std::string_view what, uint64_t min, uint64_t max,
                        NumberBase base) {
  checked_digits(text, what, base, false);
  uint64_t value = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value, static_cast<int>(base));
  if (ec == std::errc::result_out_of_range || (ec == std::errc() && (value < min || value > max)))
    throw out_of_range(text, what, min, max);
  if (ec != std::errc() || end != text.data() + text.size())
    throw Error(std::string(what) + " " + shown(text) + " is not " + expected_kind(base, false));
  return value;
}

int64_t parse_signed(std::string_view text, std::string_view what, int64_t min, int64_t max,
                     NumberBase base) {
  checked_digits(text, what, base, true);
  int64_t value = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value, static_cast<int>(base));
  if (ec == std::errc::result_out_of_range || (ec == std::errc() && (value < min || value > max)))
    throw out_of_range(text, what, min, max);
  if (ec != std::errc() || end != text.data() + text.size())
    throw Error(std::string(what) + " " + shown(text) + " is not " + expected_kind(base, true));
  return value;
}

}  // namespace ckpt::detail
