#include "common/error.h"
#include "image/image.h"

namespace ckpt::image {

CompressionSpec parse_compression(const std::string& text) {
  CompressionSpec spec;
  if (text == "none") {
    spec.kind = Compression::none;
    return spec;
  }
  if (text == "zstd") return spec;
  if (text.rfind("zstd:", 0) == 0) {
    std::string level = text.substr(5);
    bool digits = !level.empty() && level.size() <= 2 &&
                  level.find_first_not_of("0123456789") == std::string::npos;
    int value = digits ? std::stoi(level) : 0;
    if (value >= 1 && value <= 19) {
      spec.level = value;
      return spec;
    }
  }
  throw Error("--compress '" + text + "' is not a compression", 0,
              "use none, zstd or zstd:LEVEL with LEVEL 1..19");
}

}  // namespace ckpt::image
