#include "common/error.h"

#include <gtest/gtest.h>

namespace ckpt {
namespace {

TEST(Error, LineCarriesContextErrnoAndHint) {
  Error e("open /x", ENOENT);
  e.context("spec.yaml:3:5");
  e.with_hint("check the path");
  EXPECT_STREQ(e.what(), "spec.yaml:3:5: open /x: No such file or directory (check the path)");
  EXPECT_EQ(e.code(), ENOENT);
}

TEST(Error, WithContextPrependsOnTheWayUp) {
  try {
    with_context("restore pid 42", [] { throw Error("mmap failed", ENOMEM); });
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "restore pid 42: mmap failed: Cannot allocate memory");
  }
}

}  // namespace
}  // namespace ckpt
