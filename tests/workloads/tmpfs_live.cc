// The workload of the tmpfs checkpoint/restore tests that use tmpfs files while running: a
// parent and a child share counters through a MAP_SHARED mapping of a file in /dev/shm, the
// parent also keeps a MAP_PRIVATE mapping of another /dev/shm file that it modified, and two
// plain fds on a file in /tmp: one that appends fixed-size records, one that reads them back.
//
//   tmpfs_live DIR
//
// /dev/shm/counters (one page) is mapped MAP_SHARED by the parent (through the fd it keeps
// open) and, separately, by the child (which opens the file itself): the processes share the
// page only through the file. /dev/shm/private holds 8 KiB of 'A'; the parent maps it
// MAP_PRIVATE and writes 'B' over the first page, so its mapping and the file differ. Every
// 10 ms each process bumps its own counter slot and rewrites DIR/status-<pid>; the parent
// also writes the record "rec NNNNNNNNNN\n" (16 bytes) through its write fd (at that fd's
// offset) and reads the next record through its read fd, counting a mismatch if it is not the
// record it expects.
//
// On SIGUSR1 each writes a fresh token into its slot and waits (up to 10 s) for the peer's
// round to reach its own, then writes DIR/report-<pid>:
//   pid=P role=parent|child round=R token=HEX peer_token=HEX|none peer_live=0|1 counter=N
//   file_counter_matches=0|1
// and the parent also:
//   private_ok=0|1 written=W w_off=O read=R r_off=O bad=B log_size=S
// file_counter_matches: the process's slot read with pread(2) from the file equals what its
// mapping holds (the mapping is the file's page cache). private_ok: the private mapping still
// holds 'B' over 'A' while the file still holds 'A'. w_off/r_off are the fds' offsets
// (lseek SEEK_CUR): after a restore they must still be written*16 and read*16.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "report_file.h"

namespace {

constexpr const char* kCounters = "/dev/shm/counters";
constexpr const char* kPrivate = "/dev/shm/private";
constexpr const char* kLog = "/tmp/log";
constexpr size_t kPage = 4096;
constexpr size_t kRecord = 16;

struct Slot {
  uint64_t counter;
  uint64_t round;
  uint64_t token;
  uint64_t pad[5];
};

volatile sig_atomic_t g_report = 0;
void on_usr1(int) {
  g_report = 1;
}

[[noreturn]] void die(const char* what) {
  std::perror(what);
  _exit(3);
}

uint64_t fresh_token() {
  uint64_t t = 0;
  while (t == 0)
    if (getrandom(&t, sizeof t, 0) != sizeof t) t = static_cast<uint64_t>(getpid()) << 20;
  return t;
}

Slot* map_counters(int fd) {
  void* p = mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) die("mmap counters");
  return static_cast<Slot*>(p);
}

// The slot's counter as the file says, read through a descriptor of its own.
uint64_t file_counter(int role) {
  int fd = open(kCounters, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ~0ULL;
  uint64_t v = ~0ULL;
  if (pread(fd, &v, sizeof v, role * sizeof(Slot)) != sizeof v) v = ~0ULL;
  close(fd);
  return v;
}

struct Log {
  int w = -1, r = -1;
  uint64_t written = 0, read = 0, bad = 0;

  void tick() {
    char rec[kRecord + 1];
    std::snprintf(rec, sizeof rec, "rec %010llu\n", static_cast<unsigned long long>(written));
    if (::write(w, rec, kRecord) == static_cast<ssize_t>(kRecord)) ++written;
    char got[kRecord];
    if (::read(r, got, kRecord) == static_cast<ssize_t>(kRecord)) {
      std::snprintf(rec, sizeof rec, "rec %010llu\n", static_cast<unsigned long long>(read));
      if (std::memcmp(got, rec, kRecord) != 0) ++bad;
      ++read;
    }
  }
};

[[noreturn]] void run(const std::string& dir, int role, Slot* slots, const char* priv, Log* log) {
  std::string me = std::to_string(getpid());
  Slot& mine = slots[role];
  Slot& peer = slots[1 - role];
  uint64_t round = __atomic_load_n(&mine.round, __ATOMIC_ACQUIRE);
  for (;;) {
    uint64_t counter = __atomic_add_fetch(&mine.counter, 1, __ATOMIC_RELEASE);
    if (log) log->tick();
    workload::replace_file(dir + "/status-" + me, "counter=" + std::to_string(counter) + "\n");
    if (g_report) {
      g_report = 0;
      ++round;
      uint64_t token = fresh_token();
      __atomic_store_n(&mine.token, token, __ATOMIC_RELAXED);
      __atomic_store_n(&mine.round, round, __ATOMIC_RELEASE);
      uint64_t peer_counter = __atomic_load_n(&peer.counter, __ATOMIC_ACQUIRE);
      bool ready = false, live = false;
      for (int i = 0; i < 1000 && !(ready && live); ++i) {
        __atomic_add_fetch(&mine.counter, 1, __ATOMIC_RELEASE);
        ready = __atomic_load_n(&peer.round, __ATOMIC_ACQUIRE) >= round;
        live = __atomic_load_n(&peer.counter, __ATOMIC_ACQUIRE) != peer_counter;
        usleep(10000);
      }
      char peer_token[24] = "none";
      if (ready)
        std::snprintf(
            peer_token, sizeof peer_token, "%016llx",
            static_cast<unsigned long long>(__atomic_load_n(&peer.token, __ATOMIC_ACQUIRE)));
      uint64_t now = __atomic_load_n(&mine.counter, __ATOMIC_ACQUIRE);
      char line[512];
      int n = std::snprintf(line, sizeof line,
                            "pid=%d role=%s round=%llu token=%016llx peer_token=%s peer_live=%d "
                            "counter=%llu file_counter_matches=%d",
                            getpid(), role == 0 ? "parent" : "child",
                            static_cast<unsigned long long>(round),
                            static_cast<unsigned long long>(token), peer_token, live ? 1 : 0,
                            static_cast<unsigned long long>(now), file_counter(role) == now);
      if (log) {
        char file_byte = 0;
        int fd = open(kPrivate, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
          if (pread(fd, &file_byte, 1, 0) != 1) file_byte = 0;
          close(fd);
        }
        bool private_ok =
            priv[0] == 'B' && priv[kPage - 1] == 'B' && priv[kPage] == 'A' && file_byte == 'A';
        struct stat st {};
        fstat(log->w, &st);
        n += std::snprintf(line + n, sizeof line - n,
                           " private_ok=%d written=%llu w_off=%lld read=%llu r_off=%lld bad=%llu "
                           "log_size=%lld",
                           private_ok, static_cast<unsigned long long>(log->written),
                           static_cast<long long>(lseek(log->w, 0, SEEK_CUR)),
                           static_cast<unsigned long long>(log->read),
                           static_cast<long long>(lseek(log->r, 0, SEEK_CUR)),
                           static_cast<unsigned long long>(log->bad),
                           static_cast<long long>(st.st_size));
      }
      std::snprintf(line + n, sizeof line - n, "\n");
      workload::replace_file(dir + "/report-" + me, line);
    }
    usleep(10000);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: tmpfs_live DIR\n");
    return 2;
  }
  std::string dir = argv[1];
  struct sigaction sa {};
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, nullptr);

  int counters = open(kCounters, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (counters < 0 || ftruncate(counters, kPage) < 0) die("create counters");

  int pfd = open(kPrivate, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (pfd < 0) die("create private");
  std::string a(2 * kPage, 'A');
  if (write(pfd, a.data(), a.size()) != static_cast<ssize_t>(a.size())) die("write private");
  auto* priv =
      static_cast<char*>(mmap(nullptr, 2 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE, pfd, 0));
  if (priv == MAP_FAILED) die("mmap private");
  close(pfd);
  std::memset(priv, 'B', kPage);

  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    close(counters);
    int fd = open(kCounters, O_RDWR | O_CLOEXEC);
    if (fd < 0) die("child: open counters");
    Slot* slots = map_counters(fd);
    close(fd);
    run(dir, 1, slots, nullptr, nullptr);
  }
  static Log log;
  log.w = open(kLog, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  log.r = open(kLog, O_RDONLY | O_CLOEXEC);
  if (log.w < 0 || log.r < 0) die("open log");
  run(dir, 0, map_counters(counters), priv, &log);
}
