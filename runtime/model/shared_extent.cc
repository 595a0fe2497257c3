#include "runtime/model/shared_extent.h"

#include <algorithm>

#include "common/error.h"
#include "common/format.h"

namespace ckpt::model {

namespace {

constexpr uint64_t kPage = 4096;

}  // namespace

std::map<uint64_t, uint64_t> shared_extents(const std::vector<Process>& processes) {
  std::map<uint64_t, uint64_t> out;
  for (const Process& p : processes) {
    for (const Vma& v : p.vmas) {
      if (v.kind != VmaKind::anonymous_shared) continue;
      uint64_t& extent = out[v.shared_id];
      extent = std::max(extent, v.offset + (v.end - v.start));
    }
  }
  return out;
}

uint64_t shared_object_size(uint64_t file_size, uint64_t extent) {
  uint64_t size = std::max(file_size, extent);
  return (size + kPage - 1) / kPage * kPage;
}

void check_shared_memory(const Checkpoint& checkpoint) {
  std::map<uint64_t, uint64_t> sizes;
  for (const SharedMemory& shm : checkpoint.shared_memory) {
    if (shm.size == 0 || shm.size % kPage != 0 || shm.stream.empty()) {
      throw Error("shared memory object " + std::to_string(shm.id) + " has size " +
                      std::to_string(shm.size) + " and stream '" + shm.stream + "'",
                  0, "the image is damaged; take the checkpoint again");
    }
    if (!sizes.emplace(shm.id, shm.size).second) {
      throw Error("shared memory object " + std::to_string(shm.id) + " is listed twice", 0,
                  "the image is damaged; take the checkpoint again");
    }
  }
  for (const Process& p : checkpoint.processes) {
    for (const Vma& v : p.vmas) {
      if (v.kind != VmaKind::anonymous_shared) continue;
      std::string where = "pid " + std::to_string(p.pid) + " VMA " + hex(v.start) + "-" +
                          hex(v.end) + " (shared anonymous object " + std::to_string(v.shared_id) +
                          ")";
      auto it = sizes.find(v.shared_id);
      if (it == sizes.end()) {
        throw Error(where + ": the image holds no such object", 0,
                    "the image is damaged; take the checkpoint again");
      }
      if (v.offset % kPage != 0) {
        throw Error(where + ": offset " + hex(v.offset) + " is not page-aligned", 0,
                    "the image is damaged; take the checkpoint again");
      }
      if (v.end <= v.start || v.offset + (v.end - v.start) > it->second) {
        throw Error(where + ": offset " + hex(v.offset) + " lies outside the object of " +
                        std::to_string(it->second) + " bytes",
                    0, "the image is damaged; take the checkpoint again");
      }
    }
  }
}

}  // namespace ckpt::model
