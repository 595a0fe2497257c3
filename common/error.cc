#include "common/error.h"

#include <cstring>

namespace ckpt {

void Error::rebuild() {
  line_ = context_.empty() ? what_ : context_ + ": " + what_;
  if (errno_ != 0) {
    line_ += ": ";
    line_ += std::strerror(errno_);
  }
  if (!hint_.empty()) line_ += " (" + hint_ + ")";
}

}  // namespace ckpt
