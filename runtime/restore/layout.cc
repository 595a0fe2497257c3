#include "runtime/restore/layout.h"

#include <algorithm>
#include <cstdio>

#include "common/error.h"

namespace ckpt::restore {

namespace {

std::string describe(const std::vector<NamedRange>& set) {
  std::string out;
  for (const NamedRange& r : set) {
    if (!out.empty()) out += ", ";
    out += r.name + " " + std::to_string((r.range.end - r.range.start) / 1024) + " KiB";
  }
  return out.empty() ? "none" : out;
}

std::vector<NamedRange> sorted(std::vector<NamedRange> v) {
  std::sort(v.begin(), v.end(),
            [](const NamedRange& a, const NamedRange& b) { return a.range.start < b.range.start; });
  return v;
}

}  // namespace

uint64_t find_hole(std::vector<Range> busy, uint64_t size, uint64_t floor, uint64_t ceiling) {
  constexpr uint64_t kPage = 4096;
  std::sort(busy.begin(), busy.end(),
            [](const Range& a, const Range& b) { return a.start < b.start; });
  uint64_t candidate = (floor + kPage - 1) & ~(kPage - 1);
  for (const Range& r : busy) {
    if (r.end <= candidate) continue;
    if (r.start >= candidate + size) break;
    candidate = (r.end + kPage - 1) & ~(kPage - 1);
  }
  if (candidate + size > ceiling || candidate + size < candidate) {
    throw Error("no free address range of " + std::to_string(size) +
                " bytes for the restore's code page in the target layout");
  }
  return candidate;
}

std::vector<SpecialMove> plan_special_moves(const std::vector<NamedRange>& stub_in,
                                            const std::vector<NamedRange>& dumped_in) {
  std::vector<NamedRange> stub = sorted(stub_in), dumped = sorted(dumped_in);
  const char* hint = "restore on a host running the same kernel as the dump";
  bool same = stub.size() == dumped.size();
  for (size_t i = 0; same && i < stub.size(); ++i) {
    same =
        stub[i].name == dumped[i].name &&
        stub[i].range.end - stub[i].range.start == dumped[i].range.end - dumped[i].range.start &&
        stub[i].range.start - stub[0].range.start == dumped[i].range.start - dumped[0].range.start;
  }
  if (!same) {
    throw Error("the image's vdso layout (" + describe(dumped) + ") differs from this kernel's (" +
                describe(stub) + ")")
        .with_hint(hint);
  }
  std::vector<SpecialMove> moves;
  for (size_t i = 0; i < stub.size(); ++i) {
    moves.push_back({stub[i].name, stub[i].range, dumped[i].range.start});
  }
  return moves;
}

}  // namespace ckpt::restore
