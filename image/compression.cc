#include "common/error.h"
#include "common/parse_number.h"
#include "image/image.h"

namespace ckpt::image {

CompressionSpec parse_compression(const std::string& text) {
  CompressionSpec spec;
  if (text == "none") {
    spec.kind = Compression::none;
    return spec;
  }
  if (text == "zstd") return spec;
  static constexpr const char* kHint = "use none, zstd or zstd:LEVEL with LEVEL 1..19";
  if (text.rfind("zstd:", 0) == 0) {
    std::string_view level = std::string_view(text).substr(5);
    try {
      // "007" could be meant as octal elsewhere; one spelling per level keeps scripts honest.
      if (level.size() > 1 && level[0] == '0')
        throw Error("zstd level '" + std::string(level) + "' has a leading zero");
      spec.level = parse_number<int>(level, "zstd level", 1, 19);
    } catch (Error& e) {
      throw e.context("--compress '" + text + "'").with_hint(kHint);
    }
    return spec;
  }
  throw Error("--compress '" + text + "' is not a compression", 0, kHint);
}

}  // namespace ckpt::image
