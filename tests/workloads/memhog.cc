// Workload for the checkpoint tests: fills N MiB of private anonymous memory with pseudo-random
// data, prints its digest and addresses, then counts forever, storing the counter in a file so a
// test can see whether it is running (the counter advances) or stopped.
//
//   memhog MIB COUNTER_FILE [--threads N] [--fork] [--socket] [--shared KIB]
//
// --threads N   N extra threads that also count (in memory)
// --fork        fork a child that counts too (a two-process tree)
// --shared KIB  map KIB of MAP_SHARED|MAP_ANONYMOUS memory before --fork, so both processes
//               map the same object
// --socket      keep an AF_UNIX socket open (a checkpoint must refuse it)
// --zombie      fork a child that exits at once and is never reaped
// --signals     SIGUSR1 handler, SIGPIPE ignored, SIGUSR2 blocked and pending (process-wide),
//               an alternate signal stack, umask 027
// Reports "key=value" lines on stdout, ending with "ready=1".
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

volatile uint64_t g_thread_counter = 0;

void on_usr1(int) {}

void setup_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART | SA_ONSTACK;
  sigaddset(&sa.sa_mask, SIGTERM);
  sigaction(SIGUSR1, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR2);
  sigprocmask(SIG_BLOCK, &block, nullptr);
  kill(getpid(), SIGUSR2);  // stays pending on the process
  static char altstack[65536];
  stack_t ss{};
  ss.ss_sp = altstack;
  ss.ss_size = sizeof altstack;
  sigaltstack(&ss, nullptr);
  umask(027);
}

void* count_forever(void*) {
  for (;;) {
    g_thread_counter = g_thread_counter + 1;
    usleep(1000);
  }
  return nullptr;
}

uint64_t fnv1a(const unsigned char* p, size_t n) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: memhog MIB COUNTER_FILE [--threads N] [--fork] [--socket] "
                 "[--shared KIB]\n");
    return 2;
  }
  size_t mib = std::strtoul(argv[1], nullptr, 10);
  const char* counter_path = argv[2];
  int threads = 0;
  bool fork_child = false, want_socket = false, signals = false, zombie = false;
  size_t shared_kib = 0;
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc)
      threads = std::atoi(argv[++i]);
    else if (a == "--fork")
      fork_child = true;
    else if (a == "--socket")
      want_socket = true;
    else if (a == "--signals")
      signals = true;
    else if (a == "--zombie")
      zombie = true;
    else if (a == "--shared" && i + 1 < argc)
      shared_kib = std::strtoul(argv[++i], nullptr, 10);
    else {
      std::fprintf(stderr, "memhog: unknown argument %s\n", argv[i]);
      return 2;
    }
  }

  size_t len = mib << 20;
  auto* data = static_cast<unsigned char*>(std::malloc(len));
  uint64_t x = 88172645463325252ULL;
  for (size_t i = 0; i < len; i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::memcpy(data + i, &x, 8);
  }
  char* small = static_cast<char*>(std::malloc(4000));  // from brk: a [heap] mapping
  std::strcpy(small, "heap");

  unsigned char* shared = nullptr;
  if (shared_kib > 0) {
    shared = static_cast<unsigned char*>(
        mmap(nullptr, shared_kib << 10, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    if (shared == MAP_FAILED) return 3;
    std::memset(shared, 0x5a, shared_kib << 10);
  }
  int sock = -1;
  if (want_socket) sock = socket(AF_UNIX, SOCK_STREAM, 0);

  if (signals) setup_signals();
  int counter_fd = open(counter_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (counter_fd < 0) return 4;

  pid_t child = 0;
  if (fork_child) {
    child = fork();
    if (child == 0) {
      for (;;) {
        if (shared != nullptr) shared[0] = static_cast<unsigned char>(shared[0] + 1);
        usleep(1000);
      }
    }
  }
  pid_t zombie_pid = 0;
  if (zombie) {
    zombie_pid = fork();
    if (zombie_pid == 0) _exit(7);
    usleep(100000);  // let it die; it is never waited for
  }
  for (int i = 0; i < threads; ++i) {
    pthread_t t;
    pthread_create(&t, nullptr, count_forever, nullptr);
  }

  std::printf(
      "pid=%d\ndigest=%016llx\ndata=%p\nheap=%p\nshared=%p\nsocket_fd=%d\n"
      "counter_fd=%d\nchild=%d\nzombie=%d\nready=1\n",
      getpid(), static_cast<unsigned long long>(fnv1a(data, len)), static_cast<void*>(data),
      static_cast<void*>(small), static_cast<void*>(shared), sock, counter_fd, child, zombie_pid);
  std::fflush(stdout);

  uint64_t counter = 0;
  for (;;) {
    ++counter;
    char text[32];
    int n = std::snprintf(text, sizeof text, "%020llu\n", static_cast<unsigned long long>(counter));
    if (pwrite(counter_fd, text, static_cast<size_t>(n), 0) != n) return 5;
    usleep(5000);
  }
}
