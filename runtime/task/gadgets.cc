#include "runtime/task/gadgets.h"

#include <sys/mman.h>

#include <algorithm>
#include <vector>

#include "common/error.h"
#include "runtime/task/maps.h"
#include "runtime/task/memory.h"

namespace ckpt::task {

namespace {

constexpr unsigned char kSyscall[] = {0x0f, 0x05};
constexpr unsigned char kRet = 0xc3, kNop = 0x90;
constexpr int kRsp = 4;
// A process's executable mappings may hold hundreds of MiB of code; the gadgets are in the
// vdso or the libc, scanned first. Give up past this much and let the caller fall back.
constexpr uint64_t kScanBudget = 64ull << 20;

// Length of one register-only instruction at code[0] (xor or mov between two registers other
// than rsp, optionally with a REX prefix; nop), or 0 if it is anything else.
size_t register_only_length(std::span<const unsigned char> code) {
  if (code.empty()) return 0;
  if (code[0] == kNop) return 1;
  size_t at = 0;
  int rex = 0;
  if ((code[0] & 0xf0) == 0x40) {
    rex = code[0];
    at = 1;
  }
  if (code.size() < at + 2) return 0;
  unsigned char op = code[at], modrm = code[at + 1];
  bool xor_or_mov = op == 0x31 || op == 0x33 || op == 0x89 || op == 0x8b;
  if (!xor_or_mov || (modrm >> 6) != 3) return 0;  // mod 11: register operands, no memory
  int reg = ((modrm >> 3) & 7) | ((rex & 4) ? 8 : 0);
  int rm = (modrm & 7) | ((rex & 1) ? 8 : 0);
  if (reg == kRsp || rm == kRsp) return 0;  // the chain depends on rsp reaching `ret` intact
  return at + 2;
}

bool ends_in_ret(std::span<const unsigned char> code) {
  for (int steps = 0; steps < 16 && !code.empty(); ++steps) {
    if (code[0] == kRet) return true;
    size_t len = register_only_length(code);
    if (len == 0) return false;
    code = code.subspan(len);
  }
  return false;
}

// Whether `finder` matches the task's own code at `addr` (at offset 0), reading no further
// than `end`, the end of its mapping.
bool at_start(TaskMemory& mem, uint64_t addr, uint64_t end,
              std::optional<size_t> (*finder)(std::span<const unsigned char>)) {
  // syscall + 16 register instructions of at most 3 bytes + ret.
  unsigned char code[64];
  size_t len = std::min<uint64_t>(sizeof code, end - addr);
  try {
    mem.read(addr, code, len);
  } catch (const Error&) {
    return false;
  }
  auto found = finder(std::span<const unsigned char>(code, len));
  return found && *found == 0;
}

}  // namespace

std::optional<size_t> find_syscall_ret(std::span<const unsigned char> code) {
  for (size_t i = 0; i + 2 < code.size(); ++i) {
    if (code[i] == kSyscall[0] && code[i + 1] == kSyscall[1] && ends_in_ret(code.subspan(i + 2)))
      return i;
  }
  return std::nullopt;
}

std::optional<size_t> find_sigreturn(std::span<const unsigned char> code) {
  static const std::vector<unsigned char> kPatterns[] = {
      {0xb8, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05},              // mov $15, %eax; syscall
      {0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05},  // mov $15, %rax; syscall
  };
  std::optional<size_t> best;
  for (const auto& pattern : kPatterns) {
    auto it = std::search(code.begin(), code.end(), pattern.begin(), pattern.end());
    if (it != code.end()) {
      size_t at = static_cast<size_t>(it - code.begin());
      if (!best || at < *best) best = at;
    }
  }
  return best;
}

Gadgets GadgetFinder::find(pid_t pid) {
  std::vector<MapEntry> maps = read_maps(pid);
  // The vdso first (it is the same in every process of this kernel), then libraries, whose
  // names say "lib", then the rest.
  auto rank = [](const MapEntry& m) {
    if (m.name == "[vdso]") return 0;
    return m.name.find("/lib") != std::string::npos ? 1 : 2;
  };
  std::stable_sort(maps.begin(), maps.end(),
                   [&](const MapEntry& a, const MapEntry& b) { return rank(a) < rank(b); });
  TaskMemory mem(pid);
  Gadgets out;
  uint64_t scanned = 0;
  for (const MapEntry& m : maps) {
    if (out.complete()) break;
    if ((m.prot & PROT_EXEC) == 0 || (m.prot & PROT_READ) == 0 || m.name == "[vsyscall]") continue;
    Key key = m.is_file() ? Key{std::to_string(m.dev_major) + ":" + std::to_string(m.dev_minor),
                                m.inode, m.offset}
                          : Key{m.name, 0, 0};
    // Anonymous executable memory (a JIT's) can change under us: never cache or trust it.
    if (!m.is_file() && m.name != "[vdso]") continue;
    auto cached = cache_.find(key);
    if (cached == cache_.end()) {
      if (scanned + m.size() > kScanBudget) continue;
      scanned += m.size();
      std::vector<unsigned char> bytes(m.size());
      try {
        mem.read(m.start, bytes.data(), bytes.size());
      } catch (const Error&) {
        continue;  // unreadable (execute-only): not a place to look
      }
      cached = cache_.emplace(key, Found{find_syscall_ret(bytes), find_sigreturn(bytes)}).first;
    }
    const Found& f = cached->second;
    // The cache is per file, but a process may have patched its private copy of the text:
    // check the bytes at each address in this process before trusting them.
    if (out.syscall_ret == 0 && f.syscall_ret &&
        at_start(mem, m.start + *f.syscall_ret, m.end, find_syscall_ret))
      out.syscall_ret = m.start + *f.syscall_ret;
    if (out.sigreturn == 0 && f.sigreturn &&
        at_start(mem, m.start + *f.sigreturn, m.end, find_sigreturn))
      out.sigreturn = m.start + *f.sigreturn;
  }
  return out;
}

}  // namespace ckpt::task
