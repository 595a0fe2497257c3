// The checked number parser every command-line, spec, state and /proc number goes through:
// whole text only, range-checked, and a message that names what was parsed.
#include "common/parse_number.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/types.h>

#include <cstdint>

#include "common/error.h"

namespace ckpt {
namespace {

using ::testing::HasSubstr;

template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ckpt::Error thrown";
  return {};
}

TEST(ParseNumber, ReadsWholeDecimalHexAndOctal) {
  EXPECT_EQ(parse_number<int>("15", "signal"), 15);
  EXPECT_EQ(parse_number<int>("-7", "nice"), -7);
  EXPECT_EQ(parse_number<uint64_t>("18446744073709551615", "pos"), UINT64_MAX);
  EXPECT_EQ(parse_number<uint64_t>("000001ffffffffff", "CapBnd", NumberBase::hex),
            0x1ffffffffffULL);
  EXPECT_EQ(parse_number<uint64_t>("FfFf", "SigCgt", NumberBase::hex), 0xffffULL);
  EXPECT_EQ(parse_number<uint32_t>("0022", "Umask", NumberBase::octal), 022u);
  EXPECT_EQ(parse_number<int>("02100002", "flags", NumberBase::octal), 02100002);
  EXPECT_EQ(parse_number<int64_t>("-9223372036854775808", "offset"), INT64_MIN);
}

TEST(ParseNumber, OverflowNamesWhatAndTheRange) {
  EXPECT_EQ(error_of([] { parse_number<int>("99999999999", "signal number", 1, 64); }),
            "signal number '99999999999' is out of range: expected 1 to 64");
  EXPECT_EQ(error_of([] { parse_number<int>("99999999999", "Pid"); }),
            "Pid '99999999999' is out of range: expected -2147483648 to 2147483647");
  EXPECT_THAT(error_of([] { parse_number<uint64_t>("18446744073709551616", "pos"); }),
              HasSubstr("out of range: expected 0 to 18446744073709551615"));
  EXPECT_THAT(error_of([] { parse_number<int>("0", "signal number", 1, 64); }),
              HasSubstr("'0' is out of range: expected 1 to 64"));
  EXPECT_THAT(error_of([] { parse_number<int>("-2147483649", "nice"); }),
              HasSubstr("out of range"));
  EXPECT_THAT(error_of([] { parse_number<uint32_t>("100000000", "uid", NumberBase::hex); }),
              HasSubstr("out of range"));
}

TEST(ParseNumber, RefusesWhatStoiWouldHalfAccept) {
  // Each of these std::stoi/stoul would take (or half-take) without complaint.
  for (const char* text : {"12abc", " 12", "12 ", "+12", "0x1f", "1e3", "1.5", "--1", "-", ""}) {
    SCOPED_TRACE(text);
    std::string message = error_of([&] { parse_number<int>(text, "level"); });
    EXPECT_THAT(message, HasSubstr("level"));
    EXPECT_THAT(message,
                ::testing::AnyOf(HasSubstr("is not a decimal integer"), HasSubstr("is empty")));
  }
  EXPECT_EQ(error_of([] { parse_number<unsigned>("-1", "count"); }),
            "count '-1' is not a non-negative decimal integer");
  EXPECT_EQ(error_of([] { parse_number<unsigned>("9", "mode", NumberBase::octal); }),
            "mode '9' is not a non-negative octal integer");
  EXPECT_EQ(error_of([] { parse_number<int>("", "signal number"); }), "signal number is empty");
}

TEST(ParseNumber, LongOrMultiLineInputIsCutToOneLine) {
  std::string junk(200, 'x');
  junk[50] = '\n';
  std::string message = error_of([&] { parse_number<int>(junk, "value"); });
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_LT(message.size(), 100u);
  EXPECT_THAT(message, HasSubstr("..."));
}

TEST(ParseNumber, ListsOfNumbers) {
  EXPECT_EQ(parse_numbers<uint32_t>("0\t1000\t1000\t1000", "Uid"),
            (std::vector<uint32_t>{0, 1000, 1000, 1000}));
  EXPECT_EQ(parse_numbers<pid_t>(" 42 7 1 ", "NSpid"), (std::vector<pid_t>{42, 7, 1}));
  EXPECT_TRUE(parse_numbers<pid_t>("", "Groups").empty());
  EXPECT_THAT(error_of([] { parse_numbers<pid_t>("42 x7", "children"); }),
              HasSubstr("children 'x7' is not a decimal integer"));
}

}  // namespace
}  // namespace ckpt
