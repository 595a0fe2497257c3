// image::OrderedWorker: the writer thread of the dump and the restore pipelines. A fake sink
// records what reaches it, so order, back-pressure and error propagation are checked without
// any file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "image/image.h"
#include "image/ordered_worker.h"
#include "tests/unit/image_test_util.h"

namespace ckpt::image {
namespace {

using image_test::error_of;
using ::testing::HasSubstr;

// A StreamWriter that keeps the bytes, optionally fails at the Nth write with the kind of
// error a real stream throws (naming the image file), and records which thread wrote.
class FakeSink final : public StreamWriter {
 public:
  explicit FakeSink(int fail_at = -1) : fail_at_(fail_at) {}
  void write(const void* data, size_t len) override {
    std::lock_guard<std::mutex> lock(mu_);
    threads_.push_back(std::this_thread::get_id());
    if (writes_++ == fail_at_) {
      throw Error("write at byte " + std::to_string(bytes_.size()), ENOSPC)
          .context("image /img: pages-7");
    }
    bytes_.append(static_cast<const char*>(data), len);
  }
  void finish() override {}
  uint64_t raw_bytes() const override { return bytes_.size(); }
  uint64_t stored_bytes() const override { return bytes_.size(); }

  std::string bytes() {
    std::lock_guard<std::mutex> lock(mu_);
    return bytes_;
  }
  int writes() {
    std::lock_guard<std::mutex> lock(mu_);
    return writes_;
  }
  std::vector<std::thread::id> threads() {
    std::lock_guard<std::mutex> lock(mu_);
    return threads_;
  }

 private:
  std::mutex mu_;
  int fail_at_;
  int writes_ = 0;
  std::string bytes_;
  std::vector<std::thread::id> threads_;
};

// The dump's use: fill one of max_pending + 1 ring buffers, hand it to the worker, go on.
void pump(OrderedWorker& worker, StreamWriter& sink, const std::string& data, size_t chunk) {
  std::vector<std::string> ring(worker.max_pending() + 1, std::string(chunk, '\0'));
  size_t n = 0;
  for (size_t pos = 0; pos < data.size(); pos += chunk) {
    std::string& buffer = ring[worker.ring_slot(n++)];
    size_t len = std::min(chunk, data.size() - pos);
    // Overwriting a buffer still being written would corrupt the output: the check below
    // catches a ring_slot() that hands out a busy buffer.
    buffer.assign(data, pos, len);
    worker.submit([&sink, p = buffer.data(), len] {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      sink.write(p, len);
    });
  }
  worker.drain();
}

TEST(ImageOrderedWorker, WritesEveryChunkInOrderOnAnotherThread) {
  std::string data = image_test::random_bytes((1u << 20) + 123, 5);
  FakeSink sink;
  {
    OrderedWorker worker(2);
    pump(worker, sink, data, 4096);
  }
  EXPECT_EQ(sink.bytes(), data);
  for (std::thread::id id : sink.threads()) EXPECT_NE(id, std::this_thread::get_id());
}

TEST(ImageOrderedWorker, SubmitBlocksWhileMaxPendingJobsAreOutstanding) {
  OrderedWorker worker(1);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::atomic<int> ran{0};
  worker.submit([gate, &ran] {
    gate.wait();
    ++ran;
  });
  // The second submit must wait until the first job is done.
  auto second = std::async(std::launch::async, [&] { worker.submit([&ran] { ++ran; }); });
  EXPECT_EQ(second.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  release.set_value();
  second.get();
  worker.drain();
  EXPECT_EQ(ran.load(), 2);
}

TEST(ImageOrderedWorker, WriteErrorSurfacesNamingTheFileAndStopsLaterJobs) {
  std::string data = image_test::random_bytes(64 * 4096, 9);
  FakeSink sink(/*fail_at=*/3);
  std::string text;
  {
    OrderedWorker worker(2);
    text = error_of([&] { pump(worker, sink, data, 4096); });
    // Sticky: a stream that lost a chunk never looks complete.
    EXPECT_THAT(error_of([&] { worker.drain(); }), HasSubstr("pages-7"));
    EXPECT_THAT(error_of([&] { worker.submit([] {}); }), HasSubstr("pages-7"));
  }
  EXPECT_THAT(text, HasSubstr("image /img: pages-7"));
  EXPECT_THAT(text, HasSubstr("No space left on device"));
  // Nothing after the failed write reached the sink: at most the queued jobs were dropped.
  EXPECT_EQ(sink.bytes(), data.substr(0, 3 * 4096));
  EXPECT_EQ(sink.writes(), 4);
}

TEST(ImageOrderedWorker, DestructorWithQueuedJobsJoinsWithoutRunningThem) {
  std::atomic<int> ran{0};
  std::promise<void> started, release;
  std::shared_future<void> gate = release.get_future().share();
  std::thread opener;
  {
    OrderedWorker worker(3);
    worker.submit([gate, &ran, &started] {
      started.set_value();
      gate.wait();
      ++ran;
    });
    worker.submit([&ran] { ++ran; });
    worker.submit([&ran] { ++ran; });
    started.get_future().wait();
    // The caller unwinds (say, process_vm_readv failed) while one job runs and two wait; the
    // running one is let go only once the destructor has begun.
    opener = std::thread([&release] {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      release.set_value();
    });
  }
  opener.join();
  // The running job finished, the queued ones were dropped, and the destructor returned, so
  // the worker thread was joined.
  EXPECT_EQ(ran.load(), 1);
}

TEST(ImageOrderedWorker, RingSlotsRotateOverMaxPendingPlusOneBuffers) {
  OrderedWorker worker(2);
  EXPECT_EQ(worker.ring_slot(0), 0u);
  EXPECT_EQ(worker.ring_slot(2), 2u);
  EXPECT_EQ(worker.ring_slot(3), 0u);
  OrderedWorker zero(0);  // clamped: one job at a time
  EXPECT_EQ(zero.max_pending(), 1u);
}

}  // namespace
}  // namespace ckpt::image
