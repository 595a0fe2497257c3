// How much of each shared anonymous object (MAP_SHARED|MAP_ANONYMOUS, model::SharedMemory) the
// mappings of a checkpoint reach. A process may map only part of an object (it munmapped the
// rest, or the mapping was split and moved), so an object must be at least as long as the
// furthest offset + length any of its VMAs needs. Pure: used by the dump to size each object
// and by the restore to check the image before anything is created.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "runtime/model/task_model.h"

namespace ckpt::model {

// shared_id -> max(offset + length) over every anonymous_shared VMA of `processes`.
std::map<uint64_t, uint64_t> shared_extents(const std::vector<Process>& processes);

// The size to give an object whose backing file is `file_size` bytes long and whose mappings
// reach `extent`: the larger of the two, rounded up to whole pages.
uint64_t shared_object_size(uint64_t file_size, uint64_t extent);

// Checks that every anonymous_shared VMA names an object of `checkpoint.shared_memory` and
// lies inside it, at a page-aligned offset. Throws ckpt::Error naming the pid and the VMA.
void check_shared_memory(const Checkpoint& checkpoint);

}  // namespace ckpt::model
