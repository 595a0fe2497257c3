// A multi-threaded workload that checks itself across checkpoint/restore: the main thread and
// 15 workers each record their gettid() and count; one worker keeps a running sum in AVX2
// registers (never spilled: it sleeps with a raw inline `syscall`, which preserves them) and
// compares it with the scalar expectation, so a restore that loses a thread's xstate shows up
// as "avx=bad". Every worker names itself "worker-I" (pthread_setname_np) and the main thread
// renames the process "thr-main" afterwards, so each thread's name differs from the process's.
// On SIGUSR1 the main thread writes DIR/report: one line per thread
// ("thread=I tid=T counter=N name=NAME", NAME read from /proc/self/task/T/comm), then
// "avx=ok|bad|skipped checks=N", then "end".
//
// usage: threads DIR
#include <immintrin.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "report_file.h"

namespace {

constexpr int kThreads = 16;  // main + 15
constexpr int kAvxThread = 1;

struct Shared {
  std::atomic<long> tid[kThreads];
  std::atomic<long> counter[kThreads];
  std::atomic<long> avx_checks{0};
  std::atomic<int> avx_bad{0};  // 0 ok, 1 bad
  bool avx = false;
};

Shared g_shared;  // the workload's own state; the signal handler only sets g_report
volatile sig_atomic_t g_report = 0;

void on_usr1(int) {
  g_report = 1;
}

void sleep_ms(int ms) {
  timespec ts{0, ms * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

// A nanosleep that does not make the compiler spill vector registers: the kernel keeps the
// user FPU state across a syscall, so the ymm accumulators stay live through it.
inline void raw_sleep(const timespec* ts) {
  long ret;
  asm volatile("syscall"
               : "=a"(ret)
               : "0"(static_cast<long>(SYS_nanosleep)), "D"(ts), "S"(0L)
               : "rcx", "r11", "memory");
}

inline long raw_gettid() {
  long ret;
  asm volatile("syscall" : "=a"(ret) : "0"(static_cast<long>(SYS_gettid)) : "rcx", "r11", "memory");
  return ret;
}

// No function calls in here: a call would let the compiler spill the accumulators to the
// stack, and the test would then check memory instead of the vector registers.
__attribute__((target("avx2"))) void avx_loop(Shared& s) {
  const timespec nap{0, 1000000L};
  __m256i acc0 = _mm256_setzero_si256();
  __m256i acc1 = _mm256_setzero_si256();
  const __m256i inc0 = _mm256_set_epi64x(4, 3, 2, 1);
  const __m256i inc1 = _mm256_set_epi64x(40, 30, 20, 10);
  uint64_t n = 0;
  for (;;) {
    for (int i = 0; i < 4096; ++i) {
      acc0 = _mm256_add_epi64(acc0, inc0);
      acc1 = _mm256_add_epi64(acc1, inc1);
      // Opaque to the optimizer: the sums must really be computed in the registers.
      asm volatile("" : "+x"(acc0), "+x"(acc1));
    }
    n += 4096;
    alignas(32) uint64_t a[4], b[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(a), acc0);
    _mm256_store_si256(reinterpret_cast<__m256i*>(b), acc1);
    for (int lane = 0; lane < 4; ++lane) {
      if (a[lane] != n * (lane + 1) || b[lane] != n * 10 * (lane + 1)) s.avx_bad.store(1);
    }
    s.avx_checks.fetch_add(1);
    s.counter[kAvxThread].fetch_add(1);
    s.tid[kAvxThread].store(raw_gettid());
    raw_sleep(&nap);
  }
}

void worker(Shared& s, int index) {
  char name[16];
  std::snprintf(name, sizeof name, "worker-%d", index);
  pthread_setname_np(pthread_self(), name);
  if (index == kAvxThread && s.avx) avx_loop(s);
  for (;;) {
    s.tid[index].store(syscall(SYS_gettid));
    s.counter[index].fetch_add(1);
    sleep_ms(1 + index % 3);
  }
}

// The thread's name as the kernel holds it ("?" if the thread is unknown).
std::string thread_name(long tid) {
  std::string path = "/proc/self/task/" + std::to_string(tid) + "/comm";
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return "?";
  char buf[64] = {};
  if (std::fgets(buf, sizeof buf, f) == nullptr) buf[0] = '\0';
  std::fclose(f);
  std::string name = buf;
  if (!name.empty() && name.back() == '\n') name.pop_back();
  return name.empty() ? "?" : name;
}

void write_report(const std::string& dir, Shared& s) {
  std::string tmp = dir + "/report.tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return;
  for (int i = 0; i < kThreads; ++i) {
    long tid = s.tid[i].load();
    std::string name = thread_name(tid);
    std::fprintf(f, "thread=%d tid=%ld counter=%ld name=%s\n", i, tid, s.counter[i].load(),
                 name.c_str());
  }
  std::fprintf(f, "avx=%s checks=%ld\nend\n",
               !s.avx ? "skipped" : (s.avx_bad.load() ? "bad" : "ok"), s.avx_checks.load());
  std::fclose(f);
  std::rename(tmp.c_str(), (dir + "/report").c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: threads DIR\n");
    return 2;
  }
  std::string dir = argv[1];
  Shared& s = g_shared;
  s.avx = __builtin_cpu_supports("avx2");
  // Workers block SIGUSR1 so the main thread is the one to take it.
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, nullptr);
  std::vector<std::thread> threads;
  for (int i = 1; i < kThreads; ++i) threads.emplace_back(worker, std::ref(s), i);
  prctl(PR_SET_NAME, "thr-main");
  // The handler goes in before SIGUSR1 is unblocked (its default action would end the
  // workload), and DIR/ready tells the test it may ask for reports from now on.
  struct sigaction sa {};
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, nullptr);
  pthread_sigmask(SIG_UNBLOCK, &usr1, nullptr);
  workload::replace_file(dir + "/ready", "1\n");
  for (;;) {
    s.tid[0].store(syscall(SYS_gettid));
    s.counter[0].fetch_add(1);
    if (g_report) {
      g_report = 0;
      write_report(dir, s);
    }
    sleep_ms(2);
  }
}
