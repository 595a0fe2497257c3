// The workload of the shared-memory checkpoint/restore tests: a parent and a child that share
// one MAP_SHARED|MAP_ANONYMOUS region and prove from inside that they still share it.
//
//   shared_memory DIR MIB [--partial]
//
// The parent maps MIB MiB of data plus one control page (last) as MAP_SHARED|MAP_ANONYMOUS,
// fills the data with pseudo-random bytes (every 8th page left zero), records its digest and
// forks one child. --partial: the child then unmaps the first half of the data, so its mapping
// starts at a non-zero offset of the object. Both count forever (every 10 ms) in their own slot
// of the control page and rewrite DIR/status-<pid> as "counter=N".
//
// On SIGUSR1 each writes a fresh random token into its slot, bumps its round, and waits (up to
// 10 s) until the peer's slot reaches the same round; then it writes DIR/report-<pid>:
//   pid=P role=parent|child round=R token=HEX peer_token=HEX|none peer_live=0|1
//   digest=HEX start_digest=HEX counter=N shared=0|1 inode=I
// peer_token can only equal the peer's token if the pages are really shared; peer_live says the
// peer's counter moved while we watched; shared says /proc/self/maps shows the control page as
// "rw-s ... /dev/zero (deleted)" (as the kernel shows shared anonymous memory), with its inode.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

#include "report_file.h"

namespace {

constexpr size_t kPage = 4096;

struct Slot {
  uint64_t counter;
  uint64_t round;
  uint64_t token;
  uint64_t pad[5];  // one cache line each
};

struct Control {
  Slot slot[2];  // 0 = parent, 1 = child
};

volatile sig_atomic_t g_report = 0;
void on_usr1(int) {
  g_report = 1;
}

uint64_t digest(const unsigned char* bytes, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; i += 8) {
    uint64_t w;
    std::memcpy(&w, bytes + i, 8);
    h = (h ^ w) * 0x100000001b3ULL;
  }
  return h;
}

void write_file(const std::string& path, const std::string& text) {
  workload::replace_file(path, text);  // a failed write shows as a missing report in the test
}

uint64_t fresh_token() {
  uint64_t t = 0;
  while (t == 0) {
    if (getrandom(&t, sizeof(t), 0) != sizeof(t)) {
      timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      t = static_cast<uint64_t>(ts.tv_nsec) * 0x9e3779b97f4a7c15ULL ^ getpid();
    }
  }
  return t;
}

// The /proc/self/maps line of the mapping holding `addr`: whether it is a shared mapping of the
// kernel's "/dev/zero (deleted)" shmem file, and its inode.
void describe_mapping(uintptr_t addr, int& shared, unsigned long& inode) {
  shared = 0;
  inode = 0;
  FILE* maps = std::fopen("/proc/self/maps", "r");
  if (maps == nullptr) return;
  char line[512];
  while (std::fgets(line, sizeof(line), maps)) {
    unsigned long start, end, offset, ino;
    char perms[8], dev[16];
    int name_at = 0;
    if (std::sscanf(line, "%lx-%lx %7s %lx %15s %lu %n", &start, &end, perms, &offset, dev, &ino,
                    &name_at) < 6)
      continue;
    if (addr < start || addr >= end) continue;
    std::string name = line + name_at;
    while (!name.empty() && name.back() == '\n') name.pop_back();
    shared = std::strcmp(perms, "rw-s") == 0 && name == "/dev/zero (deleted)";
    inode = ino;
  }
  std::fclose(maps);
}

[[noreturn]] void run(const std::string& dir, int role, Control* ctl, const unsigned char* data,
                      size_t data_len) {
  const uint64_t start_digest = digest(data, data_len);
  std::string me = std::to_string(getpid());
  Slot& mine = ctl->slot[role];
  Slot& peer = ctl->slot[1 - role];
  uint64_t round = __atomic_load_n(&mine.round, __ATOMIC_ACQUIRE);
  for (;;) {
    uint64_t counter = __atomic_add_fetch(&mine.counter, 1, __ATOMIC_RELEASE);
    write_file(dir + "/status-" + me, "counter=" + std::to_string(counter) + "\n");
    if (g_report) {
      g_report = 0;
      ++round;
      uint64_t token = fresh_token();
      __atomic_store_n(&mine.token, token, __ATOMIC_RELAXED);
      __atomic_store_n(&mine.round, round, __ATOMIC_RELEASE);
      uint64_t peer_counter = __atomic_load_n(&peer.counter, __ATOMIC_ACQUIRE);
      bool peer_ready = false, peer_live = false;
      // Keep counting while waiting so the peer sees us live too.
      for (int i = 0; i < 1000 && !(peer_ready && peer_live); ++i) {
        __atomic_add_fetch(&mine.counter, 1, __ATOMIC_RELEASE);
        peer_ready = __atomic_load_n(&peer.round, __ATOMIC_ACQUIRE) >= round;
        peer_live = __atomic_load_n(&peer.counter, __ATOMIC_ACQUIRE) != peer_counter;
        usleep(10000);
      }
      char peer_token[24] = "none";
      if (peer_ready) {
        std::snprintf(
            peer_token, sizeof(peer_token), "%016llx",
            static_cast<unsigned long long>(__atomic_load_n(&peer.token, __ATOMIC_ACQUIRE)));
      }
      int shared = 0;
      unsigned long inode = 0;
      describe_mapping(reinterpret_cast<uintptr_t>(ctl), shared, inode);
      char line[512];
      std::snprintf(
          line, sizeof(line),
          "pid=%d role=%s round=%llu token=%016llx peer_token=%s peer_live=%d "
          "digest=%016llx start_digest=%016llx counter=%llu shared=%d inode=%lu\n",
          getpid(), role == 0 ? "parent" : "child", static_cast<unsigned long long>(round),
          static_cast<unsigned long long>(token), peer_token, peer_live ? 1 : 0,
          static_cast<unsigned long long>(digest(data, data_len)),
          static_cast<unsigned long long>(start_digest),
          static_cast<unsigned long long>(__atomic_load_n(&mine.counter, __ATOMIC_ACQUIRE)), shared,
          inode);
      write_file(dir + "/report-" + me, line);
    }
    usleep(10000);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: shared_memory DIR MIB [--partial]\n");
    return 2;
  }
  std::string dir = argv[1];
  size_t data_len = std::strtoul(argv[2], nullptr, 10) << 20;
  bool partial = argc > 3 && std::strcmp(argv[3], "--partial") == 0;
  if (data_len == 0) {
    std::fprintf(stderr, "shared_memory: MIB must be at least 1\n");
    return 2;
  }
  struct sigaction sa {};
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, nullptr);

  auto* base = static_cast<unsigned char*>(
      mmap(nullptr, data_len + kPage, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  if (base == MAP_FAILED) {
    std::perror("shared_memory: mmap");
    return 1;
  }
  uint64_t x = 0x9e3779b97f4a7c15ULL ^ (static_cast<uint64_t>(time(nullptr)) << 9);
  for (size_t page = 0; page < data_len / kPage; ++page) {
    if (page % 8 == 7) continue;  // holes: never-touched pages must come back as zeros
    for (size_t i = 0; i < kPage; i += 8) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      std::memcpy(base + page * kPage + i, &x, 8);
    }
  }
  auto* ctl = reinterpret_cast<Control*>(base + data_len);

  pid_t child = fork();
  if (child < 0) {
    std::perror("shared_memory: fork");
    return 1;
  }
  if (child == 0) {
    const unsigned char* data = base;
    size_t len = data_len;
    if (partial) {
      size_t half = data_len / 2 / kPage * kPage;
      if (munmap(base, half) != 0) _exit(3);
      data = base + half;
      len = data_len - half;
    }
    run(dir, 1, ctl, data, len);
  }
  // Init reaps nothing here: the child runs forever, and the test kills the whole container.
  run(dir, 0, ctl, base, data_len);
}
