// A second thread that runs jobs in the order they are submitted, with a bound on how many may
// wait. It is how the dump overlaps process_vm_readv of chunk n+1 with write(2) of chunk n, and
// the restore overlaps reading and checking chunk n+1 with process_vm_writev of chunk n: the
// caller owns max_pending + 1 buffers and rotates through them (ring_slot), because once
// submit() returns, every job older than the last max_pending has finished.
//
// Errors: the first exception a job throws is kept, the jobs queued after it are dropped, and
// it is rethrown (unchanged, with its context) by every later submit() or drain() on the
// caller's thread. The destructor never leaves the thread running: it lets the running job end,
// drops the rest and joins.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace ckpt::image {

class OrderedWorker {
 public:
  using Job = std::function<void()>;

  explicit OrderedWorker(size_t max_pending = 2);
  ~OrderedWorker();
  OrderedWorker(const OrderedWorker&) = delete;
  OrderedWorker& operator=(const OrderedWorker&) = delete;

  // Queues `job`; blocks while max_pending jobs are queued or running. Throws the error of an
  // earlier job instead of queueing (the job is then not run).
  void submit(Job job);
  // Waits until every queued job has run; throws the first error one of them threw.
  void drain();

  size_t max_pending() const { return max_pending_; }
  // Which of max_pending + 1 buffers job number `n` (0, 1, ...) may fill: it is free as soon
  // as submit() of job n - 1 has returned.
  size_t ring_slot(size_t n) const { return n % (max_pending_ + 1); }

 private:
  void run();
  void rethrow_locked(std::unique_lock<std::mutex>& lock);

  const size_t max_pending_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Job> queue_;
  size_t busy_ = 0;  // queued + running
  bool stopping_ = false;
  std::exception_ptr error_;
  std::thread thread_;  // last: starts after every member above exists
};

}  // namespace ckpt::image
