// Formatting shared by error messages: addresses and other 64-bit values as they appear in
// /proc/PID/maps and the kernel's messages.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace ckpt {

// "0x7f12a000" ("0" for zero, as printf's %#x has it).
inline std::string hex(uint64_t value) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%#llx", static_cast<unsigned long long>(value));
  return buf;
}

}  // namespace ckpt
