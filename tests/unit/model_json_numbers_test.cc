// Integers of an image's body are range-checked: a value that does not fit its field (a pid
// of 99999999999, a negative size, 3.5 for an fd) is refused naming the key, instead of being
// wrapped or truncated by the JSON library.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "runtime/model/model_json.h"

namespace ckpt::model {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

nlohmann::json body() {
  Checkpoint c;
  Process p;
  p.pid = 1;
  p.comm = "app";
  p.threads.resize(1);
  p.threads[0].tid = 1;
  File log;
  log.id = 1;
  log.flags = 02101;
  log.pos = 4096;
  log.path = "/data/log";
  c.files.push_back(log);
  p.fds.push_back(Fd{3, log.id, true});
  p.vmas.push_back(Vma{});
  p.vmas[0].runs.push_back(PageRun{0x1000, 4});
  c.processes.push_back(p);
  return to_json(c);
}

std::string error_of(const nlohmann::json& j) {
  try {
    checkpoint_from_json(j);
  } catch (const Error& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(ModelJsonNumbers, ValuesOutsideTheFieldAreRefusedNamingTheKey) {
  ASSERT_NO_THROW(checkpoint_from_json(body()));
  nlohmann::json j = body();
  j["processes"][0]["pid"] = 99999999999ULL;
  EXPECT_THAT(error_of(j), AllOf(HasSubstr("key 'pid' 99999999999 is out of range: expected "
                                           "-2147483648 to 2147483647"),
                                 HasSubstr("the image is damaged")));
  j = body();
  j["files"][0]["pos"] = -1;
  EXPECT_THAT(error_of(j), HasSubstr("key 'pos' -1 is out of range: expected 0 to "));
  j = body();
  j["processes"][0]["fds"][0]["fd"] = 3.5;
  EXPECT_THAT(error_of(j), HasSubstr("key 'fd': expected an integer, found number"));
  j = body();
  j["processes"][0]["fds"][0]["fd"] = "3";
  EXPECT_THAT(error_of(j), HasSubstr("key 'fd': expected an integer, found string"));
  j = body();
  j["processes"][0]["vmas"][0]["runs"][0][1] = -4;
  EXPECT_THAT(error_of(j), HasSubstr("key 'runs' -4 is out of range"));
  j = body();
  j["processes"][0]["mm"]["auxv"] = {6, -1};
  EXPECT_THAT(error_of(j), HasSubstr("key 'auxv' -1 is out of range"));
}

}  // namespace
}  // namespace ckpt::model
