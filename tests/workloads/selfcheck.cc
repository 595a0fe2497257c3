// The workload of the checkpoint/restore end-to-end tests: it builds state, and on SIGUSR1
// reports what it observes from inside, so the tests assert on what the workload sees rather
// than on what the tool claims.
//
//   selfcheck DIR MIB [--tree N] [--spin]
//
// Fills MIB MiB of private memory with pseudo-random bytes and records their digest, then
// counts forever (a counter in memory, advanced every 10 ms). DIR/status-<pid> is rewritten
// every tick as "counter=N". On SIGUSR1 each process writes DIR/report-<pid>:
//   pid=P ppid=P pgid=G sid=S counter=N digest=HEX start_digest=HEX
// --tree N: the first process forks N-1 more processes over three levels (children and
// grandchildren), some leading their own session or process group, all running the same loop.
// --spin: every process also runs a thread that keeps invariants in general and AVX registers
// (register_spin.h); the report adds "regs=ok|bad spins=N" (N rounds completed so far).
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

#include <atomic>
#include <thread>

#include "register_spin.h"
#include "report_file.h"

namespace {

volatile sig_atomic_t g_report = 0;
bool g_spin = false;
std::atomic<bool> g_regs_bad{false};
std::atomic<unsigned long> g_spins{0};
void on_usr1(int) {
  g_report = 1;
}

uint64_t digest(const uint64_t* words, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; ++i) h = (h ^ words[i]) * 0x100000001b3ULL;
  return h;
}

void write_file(const std::string& path, const std::string& text) {
  workload::replace_file(path, text);  // a failed write shows as a missing report in the test
}

[[noreturn]] void run(const std::string& dir, size_t mib) {
  size_t words = (mib << 20) / sizeof(uint64_t);
  auto* mem =
      static_cast<uint64_t*>(mmap(nullptr, words * sizeof(uint64_t) + 8, PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (mem == MAP_FAILED) _exit(2);
  uint64_t x = 0x9e3779b97f4a7c15ULL ^ (static_cast<uint64_t>(getpid()) << 17) ^
               static_cast<uint64_t>(time(nullptr));
  for (size_t i = 0; i < words; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    mem[i] = x;
  }
  const uint64_t start_digest = digest(mem, words);
  if (g_spin) {
    // A short round then a nap: a few percent of a core per process, so a tree of fifty still
    // leaves the machine usable, while a stop still often lands inside the loop.
    std::thread([] {
      for (;;) {
        if (workload::register_spin(300'000) != 0) g_regs_bad = true;
        g_spins.fetch_add(1);
        usleep(5000);
      }
    }).detach();
  }
  std::string me = std::to_string(getpid());
  unsigned long counter = 0;
  for (;;) {
    ++counter;
    write_file(dir + "/status-" + me, "counter=" + std::to_string(counter) + "\n");
    if (g_report) {
      g_report = 0;
      char line[320];
      int len = std::snprintf(
          line, sizeof line,
          "pid=%d ppid=%d pgid=%d sid=%d counter=%lu digest=%016llx start_digest=%016llx",
          getpid(), getppid(), getpgrp(), getsid(0), counter,
          static_cast<unsigned long long>(digest(mem, words)),
          static_cast<unsigned long long>(start_digest));
      if (g_spin)
        len += std::snprintf(line + len, sizeof line - len, " regs=%s spins=%lu",
                             g_regs_bad ? "bad" : "ok", g_spins.load());
      std::snprintf(line + len, sizeof line - len, "\n");
      write_file(dir + "/report-" + me, line);
    }
    usleep(10000);
  }
}

// Forks `count` processes below the caller over two more levels: every third child leads a
// new session, every third+1 a new process group; each child forks up to two grandchildren,
// and the first grandchild of a group leader joins its parent's group.
void fork_tree(const std::string& dir, size_t mib, int count) {
  int made = 0;
  for (int i = 0; made < count; ++i) {
    pid_t child = fork();
    if (child < 0) _exit(3);
    ++made;
    if (child == 0) {
      if (i % 3 == 0)
        setsid();
      else if (i % 3 == 1)
        setpgid(0, 0);
      for (int g = 0; g < 2 && made < count; ++g) {
        pid_t grandchild = fork();
        if (grandchild < 0) _exit(3);
        if (grandchild == 0) run(dir, mib);
        ++made;
      }
      run(dir, mib);
    }
    // The parent keeps its own count in step with what the child made below it.
    for (int g = 0; g < 2 && made < count; ++g) ++made;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: selfcheck DIR MIB [--tree N]\n");
    return 2;
  }
  std::string dir = argv[1];
  size_t mib = std::strtoul(argv[2], nullptr, 10);
  int tree = 1;
  for (int i = 3; i < argc; ++i) {
    if (std::strcmp(argv[i], "--tree") == 0 && i + 1 < argc)
      tree = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--spin") == 0)
      g_spin = __builtin_cpu_supports("avx2");
  }
  struct sigaction sa {};
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, nullptr);
  // Init reaps nothing here: children run forever, and the test kills the whole container.
  if (tree > 1) fork_tree(dir, mib, tree - 1);
  run(dir, mib);
}
