// Copies memory out of a stopped process into an image stream with as few copies and syscalls
// as possible: process_vm_readv gathers up to IOV_MAX page runs straight into one large buffer,
// which goes to the StreamWriter as is. Reading and writing overlap: a writer thread
// (image::OrderedWorker) writes and checksums chunk n while this thread reads chunk n+1 into
// the next of three buffers, so a dump costs about max(read, write) rather than their sum.
// Ranges process_vm_readv cannot read (PROT_NONE, --x: it does not force access) fall back to
// /proc/PID/mem, which does (FOLL_FORCE).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "common/unique_fd.h"
#include "image/image.h"
#include "runtime/model/task_model.h"

namespace ckpt::checkpoint {

class PageCopier {
 public:
  // `pid` is the host pid; the process must stay stopped while copying.
  explicit PageCopier(pid_t pid, size_t buffer_bytes = 8u << 20);

  // Appends the bytes of every run, in order, to `out`; returns the number of bytes written.
  // `out` is written from a second thread, which has ended when copy() returns or throws; an
  // error of `out` is rethrown here as is (it names the image file).
  uint64_t copy(const std::vector<model::PageRun>& runs, image::StreamWriter& out);

 private:
  struct Piece {
    uint64_t addr;
    size_t len;
  };
  // Reads the gathered batch (filled_ bytes) into `dst`.
  void read_batch(char* dst);
  void read_with_mem(uint64_t addr, char* dst, size_t len);

  pid_t pid_;
  size_t buffer_bytes_;
  std::vector<std::vector<char>> buffers_;  // one per ring slot of the writer thread
  std::vector<Piece> batch_;
  size_t filled_ = 0;
  UniqueFd mem_;
};

// Dumps the whole shared anonymous object behind the mapping [start, end) of `pid` (via
// /proc/PID/map_files, which opens the shmem file itself, so offsets are object offsets).
// The object is written as model::shared_object_size(file size, extent) bytes: the file's
// length (that of the original mmap) or, if some mapping reaches further (a mapping grown by
// mremap), up to `extent`, padded with zeros. Returns the size written.
uint64_t copy_shared_object(pid_t pid, uint64_t start, uint64_t end, uint64_t extent,
                            image::StreamWriter& out);

}  // namespace ckpt::checkpoint
