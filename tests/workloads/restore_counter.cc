// Restore test workload: a counter, a memory digest and a SIGUSR1 count, printed as one line
// every 10 ms on stdout. Run as "restore_counter" (one process) or "restore_counter tree",
// where pid 1 becomes a session leader and forks: 2 (own process group) -> 3 (in 2's group),
// and 4 (own session). After a restore each process must print the same token (chosen at
// start: a restarted process would pick a new one), a counter that went on from where it was,
// digest_ok=1 (its heap and stack data survived) and the same pids, groups and sessions.
// "restore_counter file PATH" also writes every line to PATH through an fd opened at start
// (fd 3, no O_APPEND): after a restore the file must go on without a gap or an overwrite.
// "restore_counter user" runs as uid/gid 1000 with groups 1000 and 2000.
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

volatile sig_atomic_t g_usr1 = 0;
thread_local uint64_t t_tls_marker = 0;  // exercises fs_base: wrong TLS -> wrong value

void on_usr1(int) {
  g_usr1 = g_usr1 + 1;
}

uint64_t digest(const uint64_t* data, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; ++i) h = (h ^ data[i]) * 1099511628211ull;
  return h;
}

int g_file = -1;

[[noreturn]] void run() {
  uint64_t token = 0;
  if (getrandom(&token, sizeof(token), 0) != sizeof(token)) _exit(2);
  t_tls_marker = token ^ 0x5a5a;
  const size_t n = (2 << 20) / sizeof(uint64_t);  // 2 MiB of heap, filled pseudo-randomly
  auto* heap = static_cast<uint64_t*>(std::malloc(n * sizeof(uint64_t)));
  uint64_t x = token | 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    heap[i] = x;
  }
  const uint64_t expected = digest(heap, n);
  struct sigaction sa {};
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, nullptr);
  // SIGUSR2 stays blocked: one sent before a dump must still be pending after the restore.
  sigset_t usr2;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  sigprocmask(SIG_BLOCK, &usr2, nullptr);
  for (uint64_t counter = 1;; ++counter) {
    bool ok = digest(heap, n) == expected && t_tls_marker == (token ^ 0x5a5a);
    sigset_t pending;
    sigpending(&pending);
    char line[256];
    int len = std::snprintf(line, sizeof(line),
                            "pid=%d ppid=%d pgid=%d sid=%d counter=%llu token=%llx digest_ok=%d "
                            "usr1=%d usr2_pending=%d\n",
                            getpid(), getppid(), getpgid(0), getsid(0),
                            static_cast<unsigned long long>(counter),
                            static_cast<unsigned long long>(token), ok ? 1 : 0,
                            static_cast<int>(g_usr1), sigismember(&pending, SIGUSR2));
    if (write(1, line, len) != len) _exit(3);
    if (g_file >= 0 && write(g_file, line, len) != len) _exit(4);
    struct timespec ts = {0, 10'000'000};
    while (nanosleep(&ts, &ts) != 0) {
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2 && std::strcmp(argv[1], "file") == 0) {
    g_file = open(argv[2], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (g_file < 0) return 5;
  }
  if (argc > 1 && std::strcmp(argv[1], "user") == 0) {
    // An unprivileged process with supplementary groups: the restore must not leave it root.
    gid_t groups[] = {1000, 2000};
    if (setgroups(2, groups) != 0 || setresgid(1000, 1000, 1000) != 0 ||
        setresuid(1000, 1000, 1000) != 0) {
      return 6;
    }
  }
  if (argc > 1 && std::strcmp(argv[1], "tree") == 0) {
    setsid();
    if (fork() == 0) {  // pid 2: leads its own group
      setpgid(0, 0);
      if (fork() == 0) run();  // pid 3: stays in 2's group
      run();
    }
    // Let pid 2 take its number before pid 4 is forked.
    struct timespec ts = {0, 50'000'000};
    nanosleep(&ts, nullptr);
    if (fork() == 0) {  // pid 4: its own session
      setsid();
      run();
    }
  }
  run();
}
