#include "image/ordered_worker.h"

#include <utility>

namespace ckpt::image {

OrderedWorker::OrderedWorker(size_t max_pending)
    : max_pending_(max_pending == 0 ? 1 : max_pending), thread_([this] { run(); }) {}

OrderedWorker::~OrderedWorker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void OrderedWorker::rethrow_locked(std::unique_lock<std::mutex>& lock) {
  if (!error_) return;
  // Sticky: a stream missing a chunk must never look complete, whatever the caller catches.
  std::exception_ptr error = error_;
  lock.unlock();
  std::rethrow_exception(error);
}

void OrderedWorker::submit(Job job) {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [&] { return busy_ < max_pending_ || error_; });
  rethrow_locked(lock);
  queue_.push_back(std::move(job));
  ++busy_;
  lock.unlock();
  changed_.notify_all();
}

void OrderedWorker::drain() {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [&] { return busy_ == 0; });
  rethrow_locked(lock);
}

void OrderedWorker::run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    Job job = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    std::exception_ptr error;
    try {
      job();
    } catch (...) {
      error = std::current_exception();
    }
    job = nullptr;  // whatever the job captured goes before the caller hears it is done
    lock.lock();
    --busy_;
    if (error) {
      if (!error_) error_ = error;
      // Later jobs build on this one (the stream's byte order): none of them may run.
      busy_ -= queue_.size();
      queue_.clear();
    }
    changed_.notify_all();
  }
}

}  // namespace ckpt::image
