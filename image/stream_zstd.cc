// Compression::zstd streams: one zstd frame per stream. Compression runs on zstd's own worker
// threads (ZSTD_c_nbWorkers) so the calling thread only feeds input and writes output; the
// frame carries zstd's content checksum (ZSTD_c_checksumFlag) in addition to our xxh128 of
// the stored bytes, so corruption is caught both before and after decompression.
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "image/stored_file.h"
#include "image/stream.h"

namespace ckpt::image {

namespace {

constexpr size_t kOutBufferSize = 2u << 20;
constexpr size_t kInBufferSize = 1u << 20;
constexpr const char* kDamaged = "the image is damaged; take the checkpoint again";

struct CCtxFree {
  void operator()(ZSTD_CCtx* ctx) const { ZSTD_freeCCtx(ctx); }
};
struct DCtxFree {
  void operator()(ZSTD_DCtx* ctx) const { ZSTD_freeDCtx(ctx); }
};

class ZstdStreamWriter final : public BufferedStreamWriter {
 public:
  ZstdStreamWriter(UniqueFd fd, std::string label, const CompressionSpec& spec)
      : BufferedStreamWriter(std::move(fd), std::move(label), Compression::zstd),
        ctx_(ZSTD_createCCtx()) {
    buffer_.resize(kOutBufferSize);
    if (!ctx_) throw file_error(out_.label(), "zstd: cannot create a compression context");
    set(ZSTD_c_compressionLevel, spec.level, "level " + std::to_string(spec.level));
    set(ZSTD_c_checksumFlag, 1, "checksum");
    long workers = spec.threads > 0 ? spec.threads : ::sysconf(_SC_NPROCESSORS_ONLN);
    // A libzstd built without threads rejects nbWorkers >= 1; it still compresses, on this
    // thread, so that is not worth failing a checkpoint for.
    ZSTD_CCtx_setParameter(ctx_.get(), ZSTD_c_nbWorkers, static_cast<int>(std::max(workers, 1L)));
  }

  void write(const void* data, size_t len) override {
    check_open();
    ZSTD_inBuffer in{data, len, 0};
    while (in.pos < in.size) step(in, ZSTD_e_continue);
    raw_ += len;
  }

  void finish() override {
    if (finished_) return;
    ZSTD_inBuffer in{nullptr, 0, 0};
    while (step(in, ZSTD_e_end) != 0) {
    }
    ctx_.reset();
    finish_stored();
  }

 private:
  void set(ZSTD_cParameter param, int value, const std::string& what) {
    size_t ret = ZSTD_CCtx_setParameter(ctx_.get(), param, value);
    if (ZSTD_isError(ret)) {
      throw file_error(out_.label(), "zstd: cannot set " + what + ": " + ZSTD_getErrorName(ret));
    }
  }

  // One call into zstd; returns what ZSTD_compressStream2 returns (0 = frame complete).
  size_t step(ZSTD_inBuffer& in, ZSTD_EndDirective mode) {
    ZSTD_outBuffer out{buffer_.data(), buffer_.size(), used_};
    size_t ret = ZSTD_compressStream2(ctx_.get(), &out, &in, mode);
    if (ZSTD_isError(ret)) {
      throw file_error(out_.label(),
                       std::string("zstd compression failed: ") + ZSTD_getErrorName(ret));
    }
    used_ = out.pos;
    // Write in large pieces, but keep at least half the buffer free so zstd always progresses.
    if (used_ >= buffer_.size() / 2) flush();
    return ret;
  }

  std::unique_ptr<ZSTD_CCtx, CCtxFree> ctx_;
};

class ZstdStreamReader final : public StreamReader {
 public:
  ZstdStreamReader(UniqueFd fd, std::string label, const FileRecord& record)
      : in_(std::move(fd), std::move(label), record.size, record.xxh128),
        raw_size_(record.raw_size),
        ctx_(ZSTD_createDCtx()),
        buffer_(kInBufferSize) {
    if (!ctx_) throw file_error(in_.label(), "zstd: cannot create a decompression context");
  }

  void read(void* data, size_t len) override {
    check_room(len);
    ZSTD_outBuffer out{data, len, 0};
    while (out.pos < out.size) {
      // One frame per stream: output wanted after its end means the frame is short.
      if (frame_done_) {
        throw file_error(in_.label(),
                         "zstd frame ends at decompressed byte " +
                             std::to_string(raw_pos_ + out.pos) + ", the manifest says " +
                             std::to_string(raw_size_),
                         kDamaged);
      }
      step(out);
    }
    raw_pos_ += len;
  }

  void skip(size_t len) override {
    check_room(len);
    if (scratch_.empty()) scratch_.resize(kInBufferSize);
    while (len > 0) {
      size_t n = std::min(len, scratch_.size());
      read(scratch_.data(), n);
      len -= n;
    }
  }

  void finish() override {
    if (raw_pos_ != raw_size_) {
      throw file_error(in_.label(), "checked before its end (at decompressed byte " +
                                        std::to_string(raw_pos_) + " of " +
                                        std::to_string(raw_size_) + ")");
    }
    // The frame's last bytes (its checksum) may not have been consumed yet; a frame problem
    // is reported only after the stored checksum, which says more precisely what is wrong.
    std::optional<Error> frame_error;
    try {
      drain_frame();
    } catch (const Error& e) {
      frame_error = e;
    }
    while (in_.remaining() > 0) in_.read_some(buffer_.data(), buffer_.size());
    in_.finish();
    if (frame_error) throw *frame_error;
  }

 private:
  void check_room(size_t len) const {
    if (len > raw_size_ - raw_pos_) {
      throw file_error(in_.label(),
                       "asked for " + std::to_string(len) + " bytes at decompressed byte " +
                           std::to_string(raw_pos_) + " but the stream holds " +
                           std::to_string(raw_size_),
                       "the image does not match its own index; take the checkpoint again");
    }
  }

  uint64_t stored_pos() const { return in_.offset() - (in_buf_.size - in_buf_.pos); }
  // zstd does not say where in its input a bad block starts; the input window does.
  std::string window() const {
    return "bytes " + std::to_string(in_.offset() - in_buf_.size) + ".." +
           std::to_string(in_.offset());
  }

  // One call into zstd, refilling the input first when it has run dry.
  void step(ZSTD_outBuffer& out) {
    if (in_buf_.pos == in_buf_.size && in_.remaining() > 0) {
      in_buf_ = {buffer_.data(), in_.read_some(buffer_.data(), buffer_.size()), 0};
    }
    size_t before = out.pos;
    size_t ret = ZSTD_decompressStream(ctx_.get(), &out, &in_buf_);
    if (ZSTD_isError(ret)) {
      throw file_error(
          in_.label(),
          "corrupt compressed data in " + window() + " (zstd: " + ZSTD_getErrorName(ret) + ")",
          kDamaged);
    }
    frame_done_ = ret == 0;
    // zstd may still flush buffered output with no input left; only no progress at all means
    // the stored bytes stop inside the frame.
    if (!frame_done_ && out.pos == before && in_buf_.pos == in_buf_.size && in_.remaining() == 0) {
      throw file_error(in_.label(),
                       "compressed data ends at byte " + std::to_string(in_.offset()) +
                           " in the middle of the zstd frame",
                       kDamaged);
    }
  }

  // After the last decompressed byte: consume the frame's tail and require nothing more.
  void drain_frame() {
    char probe;
    while (!frame_done_) {
      ZSTD_outBuffer out{&probe, 1, 0};
      step(out);
      if (out.pos > 0) {
        throw file_error(
            in_.label(),
            "holds more than the manifest's " + std::to_string(raw_size_) + " decompressed bytes",
            kDamaged);
      }
    }
    if (in_buf_.pos < in_buf_.size || in_.remaining() > 0) {
      throw file_error(in_.label(),
                       "data follows the zstd frame at byte " + std::to_string(stored_pos()),
                       kDamaged);
    }
  }

  StoredFileReader in_;
  uint64_t raw_size_;
  uint64_t raw_pos_ = 0;
  std::unique_ptr<ZSTD_DCtx, DCtxFree> ctx_;
  std::vector<char> buffer_;
  std::vector<char> scratch_;
  ZSTD_inBuffer in_buf_{nullptr, 0, 0};
  bool frame_done_ = false;
};

}  // namespace

std::unique_ptr<FileStreamWriter> make_zstd_stream_writer(UniqueFd fd, std::string label,
                                                          const CompressionSpec& spec) {
  return std::make_unique<ZstdStreamWriter>(std::move(fd), std::move(label), spec);
}

std::unique_ptr<StreamReader> make_zstd_stream_reader(UniqueFd fd, std::string label,
                                                      const FileRecord& record) {
  return std::make_unique<ZstdStreamReader>(std::move(fd), std::move(label), record);
}

}  // namespace ckpt::image
