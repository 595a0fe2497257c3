// Shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS, or MAP_SHARED of /dev/zero) for a restore.
//
// Every process mapping such an object must map the very same pages again, so the object cannot
// be recreated by one stub and passed to the others: the restorer creates each one itself
// before the stub tree is launched, fills it from its image stream, and keeps an fd of it that
// the container's init and every stub inherit across clone (none of them execs before
// restore_files() closes what the dumped fd table does not name, so O_CLOEXEC does not matter).
// map_vma() then maps the inherited fd with MAP_SHARED at the dumped offset.
//
// The object is made by mmap(MAP_SHARED|MAP_ANONYMOUS) in the restorer and reopened through
// /proc/self/map_files (proc(5); needs CAP_SYS_ADMIN): that yields the kernel's own shmem file
// "/dev/zero (deleted)" (mm/shmem.c shmem_zero_setup), so the restored mappings look exactly
// like the original ones and a later checkpoint classifies them as anonymous_shared again.
// A memfd would be classified as a memfd mapping instead.
//
// Known gap: the restorer writes the pages, so they are charged to the restorer's memory
// cgroup, not the container's (a fill through the first stub's mapping would fix that).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "common/unique_fd.h"
#include "runtime/model/task_model.h"
#include "runtime/restore/image_source.h"

namespace ckpt::restore {

class SharedMemoryObjects {
 public:
  SharedMemoryObjects() = default;
  // Checks the image's objects against its VMAs (model::check_shared_memory), then creates and
  // fills each object of checkpoint.shared_memory. Throws ckpt::Error naming the object.
  SharedMemoryObjects(const model::Checkpoint& checkpoint, const ImageSource& image);
  SharedMemoryObjects(SharedMemoryObjects&&) = default;
  SharedMemoryObjects& operator=(SharedMemoryObjects&&) = default;

  // shared_id -> fd number, valid in this process and in every process cloned from it while
  // this object lives (RestoreOptions::shared_memory_fds).
  const std::map<uint64_t, int>& fds() const { return numbers_; }

 private:
  std::vector<UniqueFd> owned_;
  std::map<uint64_t, int> numbers_;
};

}  // namespace ckpt::restore
