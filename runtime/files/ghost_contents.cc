#include "runtime/files/ghost_contents.h"

#include <unistd.h>

#include <algorithm>

#include "common/error.h"

namespace ckpt::files {

namespace {

constexpr uint64_t kChunk = 1 << 20;

void write_at(int fd, const char* data, size_t len, uint64_t offset) {
  while (len > 0) {
    ssize_t n = ::pwrite(fd, data, len, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw Error("write at offset " + std::to_string(offset), n < 0 ? errno : EIO);
    data += n;
    len -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
}

}  // namespace

std::vector<model::DataRun> data_runs(int fd, uint64_t size) {
  std::vector<model::DataRun> runs;
  uint64_t at = 0;
  while (at < size) {
    off_t data = ::lseek(fd, static_cast<off_t>(at), SEEK_DATA);
    if (data < 0 && errno == ENXIO) break;  // nothing but a hole up to the end
    if (data < 0) throw sys_error("lseek SEEK_DATA at offset " + std::to_string(at));
    if (static_cast<uint64_t>(data) >= size) break;
    off_t hole = ::lseek(fd, data, SEEK_HOLE);
    if (hole < 0) throw sys_error("lseek SEEK_HOLE at offset " + std::to_string(data));
    uint64_t end = std::min<uint64_t>(static_cast<uint64_t>(hole), size);
    runs.push_back({static_cast<uint64_t>(data), end - static_cast<uint64_t>(data)});
    at = end;
  }
  return runs;
}

uint64_t run_bytes(const std::vector<model::DataRun>& runs) {
  uint64_t total = 0;
  for (const model::DataRun& r : runs) total += r.length;
  return total;
}

uint64_t copy_runs(int fd, const std::vector<model::DataRun>& runs, image::StreamWriter& out) {
  std::vector<char> buffer(kChunk);
  uint64_t total = 0;
  for (const model::DataRun& run : runs) {
    for (uint64_t done = 0; done < run.length;) {
      size_t want = std::min<uint64_t>(buffer.size(), run.length - done);
      uint64_t at = run.offset + done;
      ssize_t n = ::pread(fd, buffer.data(), want, static_cast<off_t>(at));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw sys_error("read at offset " + std::to_string(at));
      if (n == 0)
        throw Error("the file ended at offset " + std::to_string(at) + " inside its data");
      out.write(buffer.data(), static_cast<size_t>(n));
      done += static_cast<uint64_t>(n);
      total += static_cast<uint64_t>(n);
    }
  }
  return total;
}

void fill_runs(int fd, const std::vector<model::DataRun>& runs, uint64_t size,
               image::StreamReader& in) {
  std::vector<char> buffer(kChunk);
  for (const model::DataRun& run : runs) {
    if (run.offset + run.length > size || run.offset + run.length < run.offset) {
      throw Error("data run at offset " + std::to_string(run.offset) + " of " +
                  std::to_string(run.length) + " bytes is beyond the size " + std::to_string(size));
    }
    for (uint64_t done = 0; done < run.length;) {
      size_t len = std::min<uint64_t>(buffer.size(), run.length - done);
      in.read(buffer.data(), len);
      write_at(fd, buffer.data(), len, run.offset + done);
      done += len;
    }
  }
  in.finish();
  if (::ftruncate(fd, static_cast<off_t>(size)) < 0)
    throw sys_error("truncate to " + std::to_string(size) + " bytes");
}

}  // namespace ckpt::files
