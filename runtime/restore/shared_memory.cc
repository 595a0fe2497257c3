#include "runtime/restore/shared_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "common/error.h"
#include "common/file_util.h"
#include "runtime/model/shared_extent.h"

namespace ckpt::restore {

namespace {

constexpr size_t kPage = 4096;
constexpr size_t kChunk = 4 << 20;  // bytes read from the stream per batch

// The restorer's own short-lived mapping of a fresh object: only needed until its file is
// reopened through map_files.
class Mapping {
 public:
  explicit Mapping(size_t size) : size_(size) {
    void* addr = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (addr == MAP_FAILED) {
      throw sys_error("mmap " + std::to_string(size) + " bytes of shared anonymous memory");
    }
    addr_ = reinterpret_cast<uintptr_t>(addr);
  }
  ~Mapping() { ::munmap(reinterpret_cast<void*>(addr_), size_); }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  uintptr_t start() const { return addr_; }
  uintptr_t end() const { return addr_ + size_; }

 private:
  uintptr_t addr_ = 0;
  size_t size_;
};

bool zero_page(const char* page) {
  static_assert(kPage % sizeof(uint64_t) == 0);
  uint64_t words[kPage / sizeof(uint64_t)];
  std::memcpy(words, page, kPage);
  return std::all_of(std::begin(words), std::end(words), [](uint64_t w) { return w == 0; });
}

void write_at(int fd, const char* data, size_t len, uint64_t offset) {
  while (len > 0) {
    ssize_t n = ::pwrite(fd, data, len, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw Error("write the object at offset " + std::to_string(offset), n < 0 ? errno : EIO);
    data += n;
    len -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
}

// Copies the object's stream into `fd`. Zero pages are skipped: the object starts as a hole
// and the dump stored never-touched pages as zeros, so skipping keeps them unallocated.
void fill(int fd, const model::SharedMemory& shm, const ImageSource& image) {
  auto stream = image.open_stream(shm.stream);
  std::vector<char> buffer(std::min<uint64_t>(kChunk, shm.size));
  for (uint64_t off = 0; off < shm.size;) {
    size_t len = std::min<uint64_t>(buffer.size(), shm.size - off);
    stream->read(buffer.data(), len);
    // Write each run of non-zero pages with one pwrite.
    size_t run = 0;
    for (size_t p = 0; p <= len; p += kPage) {
      bool data = p < len && !zero_page(buffer.data() + p);
      if (data) continue;
      if (p > run) write_at(fd, buffer.data() + run, p - run, off + run);
      run = p + kPage;
    }
    off += len;
  }
  stream->finish();
}

UniqueFd create_object(const model::SharedMemory& shm) {
  // mmap of MAP_SHARED|MAP_ANONYMOUS makes the shmem file with i_size = the mapping length.
  Mapping mapping(shm.size);
  char path[96];
  std::snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx",
                static_cast<unsigned long>(mapping.start()),
                static_cast<unsigned long>(mapping.end()));
  UniqueFd fd = open_file(path, O_RDWR);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw sys_error(std::string("stat ") + path);
  if (static_cast<uint64_t>(st.st_size) != shm.size) {
    throw Error(std::string(path) + " is " + std::to_string(st.st_size) + " bytes, not " +
                std::to_string(shm.size));
  }
  return fd;
}

}  // namespace

SharedMemoryObjects::SharedMemoryObjects(const model::Checkpoint& checkpoint,
                                         const ImageSource& image) {
  model::check_shared_memory(checkpoint);
  for (const model::SharedMemory& shm : checkpoint.shared_memory) {
    with_context("shared memory object " + std::to_string(shm.id) + " (stream " + shm.stream + ")",
                 [&] {
                   UniqueFd fd = create_object(shm);
                   fill(fd.get(), shm, image);
                   numbers_[shm.id] = fd.get();
                   owned_.push_back(std::move(fd));
                 });
  }
}

}  // namespace ckpt::restore
