// Pure address-space arithmetic for the restore (unit-tested): where to put the injected code
// page, and how the kernel's vdso/vvar blocks of the stub pair with the dumped ones.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ckpt::restore {

struct Range {
  uint64_t start = 0, end = 0;
};

// Lowest page-aligned address >= `floor` where `size` bytes fit without touching any of
// `busy` (unsorted, may overlap) and below `ceiling`. Throws if there is none.
uint64_t find_hole(std::vector<Range> busy, uint64_t size, uint64_t floor, uint64_t ceiling);

// A special mapping ([vvar], [vvar_vclock], [vdso]) as the stub has it and where the dump had it.
struct SpecialMove {
  std::string name;
  Range from;       // in the stub
  uint64_t to = 0;  // dumped start
};

struct NamedRange {
  std::string name;
  Range range;
};

// Pairs the stub's special mappings with the dumped ones by name. Refuses (Error with a hint)
// when the sets, sizes or relative positions differ: the vdso code finds its data pages at a
// fixed offset, so only the running kernel's own layout, moved as a whole, is valid.
std::vector<SpecialMove> plan_special_moves(const std::vector<NamedRange>& stub,
                                            const std::vector<NamedRange>& dumped);

}  // namespace ckpt::restore
