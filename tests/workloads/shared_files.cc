// The workload of the open-file checkpoint/restore tests: fds that share one open file
// description, and a file deleted while open, each checked from inside.
//
//   shared_files DIR [GHOST_DIR]
//
// DIR/shared.log is opened once (fd A, O_WRONLY, no O_APPEND) and shared every way the kernel
// shares a description: dup (B), dup2 to 20 (C), fcntl F_DUPFD from 30 (D), inherited across
// fork (the child keeps A), and received over SCM_RIGHTS (the child's E; the socket is closed
// again before anything is checkpointed). A second, separate open of the file (R, read-only)
// has its own offset. The parent sets O_NONBLOCK through D before forking, so every holder
// starts with it.
//
// A ghost: GHOST_DIR/ghost.dat (default /tmp, where the test mounts a tmpfs) is created, filled
// with 8 KiB of pattern, a hole, 4 KiB at 1 MiB, extended to 2 MiB, opened a second time read-only
// (G2), mapped MAP_SHARED (first page, inherited by the child), and unlinked. Its first description
// G is shared with the child (inherited); its offset starts at 8192.
//
// Parent and child take turns through a shared control page: in its turn a process checks that
// lseek(fd, 0, SEEK_CUR) of each of its holders equals the log's expected end, appends one
// fixed-size record "seq=N pid=P fd=F" through each holder in turn, appends a record to the
// ghost through G (after checking G's offset), and the parent bumps a counter in the ghost
// mapping and reads the next record through R, checking it is the record with the next
// sequence number. A copy of what the ghost must hold is kept in shared memory. If the
// holders had separate offsets after a restore, records would overwrite each other: the offset
// checks, the reader and the log file (read by the test) all show it. DIR/status-<pid> is
// rewritten every tick as "counter=N".
//
// On SIGUSR1 each process reports in its next turn (DIR/report-<pid>, one line of key=value):
//   parent: role=parent pid round seq errors first_error log_pos offsets_equal holders getfl
//           nonblock_was nonblock_now nonblock_same toggle_seen reader_pos reader_ok
//           ghost_deleted ghost_same_name ghost_nlink ghost_size ghost_kib ghost_pos_ok
//           ghost_separate ghost_digest_ok ghost_gone map_ok map_counter
//   child:  role=child pid round errors offsets_equal holders getfl nonblock_same toggle_seen
//           ghost_pos_ok ghost_deleted map_ok
// The parent toggles O_NONBLOCK through A in each report (nonblock_was is the state before,
// nonblock_now after; toggle_seen says its other holders see the change); the child then
// checks that its holders (A inherited, E received) see the parent's new state. getfl is
// F_GETFL without O_NONBLOCK of A, R, G, G2 (parent) or A, E, G (child): the status flags of
// every description, which a restore must give back unchanged.
#include <fcntl.h>
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
#include <vector>

#include "report_file.h"

namespace {

constexpr size_t kGhostSize = 2 << 20;
constexpr size_t kShadowSize = 4 << 20;  // what the ghost must hold, up to this size
constexpr off_t kGhostStart = 8192;      // where G's appends start
constexpr size_t kMapCounter = 100;      // offset of the counter in the mapped page
std::string ghost_path = "/tmp/ghost.dat";

struct Control {
  uint32_t turn;       // 0 parent, 1 child
  uint64_t log_pos;    // where the next record goes: the shared offset of A's description
  uint64_t seq;        // records written so far
  uint64_t read_seq;   // records read back through R
  uint64_t ghost_pos;  // the shared offset of G's description
  uint64_t errors;
  char first_error[120];
  uint64_t flag_round;  // the parent's last report round, and the O_NONBLOCK state it set
  uint32_t flag_value;
  uint64_t map_counter;
};

volatile sig_atomic_t g_report = 0;
void on_usr1(int) {
  g_report = 1;
}

Control* ctl = nullptr;
unsigned char* shadow = nullptr;

void error(const std::string& what) {
  if (__atomic_fetch_add(&ctl->errors, 1, __ATOMIC_SEQ_CST) == 0) {
    std::snprintf(ctl->first_error, sizeof ctl->first_error, "%s", what.c_str());
  }
}

uint64_t fnv(const unsigned char* p, size_t n, uint64_t h = 0xcbf29ce484222325ULL) {
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

std::string record(uint64_t seq, int fd) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "seq=%010llu pid=%05d fd=%05d\n",
                static_cast<unsigned long long>(seq), getpid(), fd);
  return buf;
}
const size_t kRecord = record(0, 0).size();

bool nonblock(int fd) {
  return (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
}

// F_GETFL of each fd in hex, O_NONBLOCK left out (the reports toggle it): "8001:8000:8002".
std::string getfl(const std::vector<int>& fds) {
  std::string out;
  for (int fd : fds) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%x", fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    out += (out.empty() ? "" : ":") + std::string(buf);
  }
  return out;
}

// Appends one record through each holder, checking each sees the shared offset first.
void append_through(const std::vector<int>& holders) {
  for (int fd : holders) {
    off_t at = lseek(fd, 0, SEEK_CUR);
    if (at != static_cast<off_t>(ctl->log_pos)) {
      error("fd" + std::to_string(fd) + "_at_" + std::to_string(at) + "_expected_" +
            std::to_string(ctl->log_pos));
    }
    std::string rec = record(ctl->seq, fd);
    if (write(fd, rec.data(), rec.size()) != static_cast<ssize_t>(rec.size())) {
      error("write_fd" + std::to_string(fd));
      continue;
    }
    ctl->log_pos += rec.size();
    ctl->seq++;
  }
}

void append_ghost(int g) {
  off_t at = lseek(g, 0, SEEK_CUR);
  if (at != static_cast<off_t>(ctl->ghost_pos)) {
    error("ghost_at_" + std::to_string(at) + "_expected_" + std::to_string(ctl->ghost_pos));
    return;
  }
  std::string rec = record(ctl->seq, g);
  if (ctl->ghost_pos + rec.size() > kShadowSize) return;  // far beyond any test's length
  if (write(g, rec.data(), rec.size()) != static_cast<ssize_t>(rec.size())) {
    error("write_ghost");
    return;
  }
  std::memcpy(shadow + ctl->ghost_pos, rec.data(), rec.size());
  ctl->ghost_pos += rec.size();
}

// Reads the next record through R: it must be the record with the next sequence number.
void read_next(int r) {
  if (ctl->read_seq >= ctl->seq) return;
  char buf[64] = {};
  ssize_t n = read(r, buf, kRecord);
  if (n != static_cast<ssize_t>(kRecord)) {
    error("reader_short_" + std::to_string(n));
    return;
  }
  char want[24];
  std::snprintf(want, sizeof want, "seq=%010llu", static_cast<unsigned long long>(ctl->read_seq));
  if (std::strncmp(buf, want, std::strlen(want)) != 0) {
    error("reader_got_" + std::string(buf, 14) + "_wanted_" + want);
  }
  ctl->read_seq++;
}

std::string holders_text(const std::vector<int>& holders) {
  std::string out;
  for (int fd : holders) out += (out.empty() ? "" : ",") + std::to_string(fd);
  return out;
}

bool offsets_equal(const std::vector<int>& holders) {
  for (int fd : holders)
    if (lseek(fd, 0, SEEK_CUR) != static_cast<off_t>(ctl->log_pos)) return false;
  return true;
}

bool nonblock_same(const std::vector<int>& holders) {
  for (int fd : holders)
    if (nonblock(fd) != nonblock(holders[0])) return false;
  return true;
}

std::string link_of(int fd) {
  char buf[256];
  ssize_t n = readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, n) : "";
}

bool ghost_deleted(int g) {
  struct stat st {};
  return fstat(g, &st) == 0 && st.st_nlink == 0 && link_of(g).ends_with(" (deleted)");
}

bool map_ok(const unsigned char* map, int fd) {
  uint64_t in_map, in_file = 0;
  std::memcpy(&in_map, map + kMapCounter, sizeof in_map);
  if (pread(fd, &in_file, sizeof in_file, kMapCounter) != sizeof in_file) return false;
  return in_map == in_file && in_map == ctl->map_counter;
}

struct Parent {
  std::string dir;
  std::vector<int> holders;  // A, B, C, D
  int r, g, g2;
  unsigned char* map;
  uint64_t round = 0;

  void report() {
    ++round;
    bool was = nonblock(holders[0]);
    bool equal = offsets_equal(holders), same_before = nonblock_same(holders);
    // Toggle O_NONBLOCK through A: B, C, D (and the child's fds) must all see it.
    int fl = fcntl(holders[0], F_GETFL);
    fcntl(holders[0], F_SETFL, was ? fl & ~O_NONBLOCK : fl | O_NONBLOCK);
    bool now = nonblock(holders[0]);
    bool seen = now != was;
    for (int fd : holders) seen = seen && nonblock(fd) == now;
    __atomic_store_n(&ctl->flag_value, now ? 1u : 0u, __ATOMIC_SEQ_CST);
    __atomic_store_n(&ctl->flag_round, round, __ATOMIC_SEQ_CST);

    struct stat st {
    }, st2{};
    fstat(g, &st);
    fstat(g2, &st2);
    size_t size = static_cast<size_t>(st.st_size);
    std::vector<unsigned char> bytes(size);
    bool digest_ok = size <= kShadowSize &&
                     pread(g2, bytes.data(), size, 0) == static_cast<ssize_t>(size) &&
                     fnv(bytes.data(), size) == fnv(shadow, size);
    std::string link = link_of(g);
    char line[1024];
    std::snprintf(
        line, sizeof line,
        "role=parent pid=%d round=%llu seq=%llu errors=%llu first_error=%s log_pos=%llu "
        "offsets_equal=%d holders=%s getfl=%s nonblock_was=%d nonblock_now=%d nonblock_same=%d "
        "toggle_seen=%d reader_pos=%lld reader_ok=%d ghost_deleted=%d ghost_same_name=%d "
        "ghost_nlink=%lu ghost_size=%lld ghost_kib=%lld ghost_pos_ok=%d ghost_separate=%d "
        "ghost_digest_ok=%d ghost_gone=%d map_ok=%d map_counter=%llu\n",
        getpid(), static_cast<unsigned long long>(round), static_cast<unsigned long long>(ctl->seq),
        static_cast<unsigned long long>(ctl->errors), ctl->errors ? ctl->first_error : "none",
        static_cast<unsigned long long>(ctl->log_pos), equal, holders_text(holders).c_str(),
        getfl({holders[0], r, g, g2}).c_str(), was, now, same_before, seen,
        static_cast<long long>(lseek(r, 0, SEEK_CUR)),
        lseek(r, 0, SEEK_CUR) == static_cast<off_t>(ctl->read_seq * kRecord), ghost_deleted(g),
        link == ghost_path + " (deleted)", static_cast<unsigned long>(st.st_nlink),
        static_cast<long long>(st.st_size), static_cast<long long>(st.st_blocks) / 2,
        lseek(g, 0, SEEK_CUR) == static_cast<off_t>(ctl->ghost_pos),
        st.st_ino == st2.st_ino && st.st_dev == st2.st_dev && lseek(g2, 0, SEEK_CUR) == 0,
        digest_ok, access(ghost_path.c_str(), F_OK) != 0, map_ok(map, g2),
        static_cast<unsigned long long>(ctl->map_counter));
    workload::replace_file(dir + "/report-" + std::to_string(getpid()), line);
  }

  void turn() {
    append_through(holders);
    append_ghost(g);
    ctl->map_counter++;
    std::memcpy(map + kMapCounter, &ctl->map_counter, sizeof ctl->map_counter);
    std::memcpy(shadow + kMapCounter, &ctl->map_counter, sizeof ctl->map_counter);
    read_next(r);
  }
};

struct Child {
  std::string dir;
  std::vector<int> holders;  // A (inherited), E (received)
  int g;
  unsigned char* map;
  uint64_t round = 0;
  bool pending = false;

  // Reports once the parent has toggled the flag for this round (it does so in its turn).
  void try_report() {
    if (__atomic_load_n(&ctl->flag_round, __ATOMIC_SEQ_CST) < round) return;
    pending = false;
    bool want = __atomic_load_n(&ctl->flag_value, __ATOMIC_SEQ_CST) != 0;
    bool seen = true;
    for (int fd : holders) seen = seen && nonblock(fd) == want;
    char line[512];
    std::snprintf(
        line, sizeof line,
        "role=child pid=%d round=%llu errors=%llu offsets_equal=%d holders=%s "
        "getfl=%s nonblock_same=%d toggle_seen=%d ghost_pos_ok=%d ghost_deleted=%d map_ok=%d\n",
        getpid(), static_cast<unsigned long long>(round),
        static_cast<unsigned long long>(ctl->errors), offsets_equal(holders),
        holders_text(holders).c_str(), getfl({holders[0], holders[1], g}).c_str(),
        nonblock_same(holders), seen, lseek(g, 0, SEEK_CUR) == static_cast<off_t>(ctl->ghost_pos),
        ghost_deleted(g), map_ok(map, g));
    workload::replace_file(dir + "/report-" + std::to_string(getpid()), line);
  }

  void turn() {
    append_through(holders);
    append_ghost(g);
  }
};

[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::exit(1);
}

int make_ghost() {
  int g = open(ghost_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (g < 0) die("shared_files: create the ghost (is a tmpfs mounted at /tmp?)");
  for (size_t i = 0; i < 8192; ++i) shadow[i] = static_cast<unsigned char>(i * 7 + 1);
  for (size_t i = 0; i < 4096; ++i) shadow[(1 << 20) + i] = static_cast<unsigned char>(i ^ 0x5a);
  if (pwrite(g, shadow, 8192, 0) != 8192 || pwrite(g, shadow + (1 << 20), 4096, 1 << 20) != 4096 ||
      ftruncate(g, kGhostSize) != 0)
    die("shared_files: fill the ghost");
  if (lseek(g, kGhostStart, SEEK_SET) != kGhostStart) die("shared_files: lseek the ghost");
  ctl->ghost_pos = kGhostStart;
  return g;
}

void send_fd(int sock, int fd) {
  char byte = 'x';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  if (sendmsg(sock, &msg, 0) != 1) die("shared_files: sendmsg");
}

int receive_fd(int sock) {
  char byte;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1) die("shared_files: recvmsg");
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (c == nullptr || c->cmsg_type != SCM_RIGHTS) die("shared_files: no fd received");
  int fd;
  std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: shared_files DIR [GHOST_DIR]\n");
    return 2;
  }
  std::string dir = argv[1];
  if (argc > 2) ghost_path = std::string(argv[2]) + "/ghost.dat";
  struct sigaction sa {};
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, nullptr);

  void* shared =
      mmap(nullptr, 4096 + kShadowSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) die("shared_files: mmap");
  ctl = static_cast<Control*>(shared);
  shadow = static_cast<unsigned char*>(shared) + 4096;

  std::string log = dir + "/shared.log";
  int a = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (a < 0) die("shared_files: open the log");
  int b = dup(a);
  int c = dup2(a, 20);
  int d = fcntl(a, F_DUPFD, 30);
  int r = open(log.c_str(), O_RDONLY | O_CLOEXEC);
  if (b < 0 || c != 20 || d < 30 || r < 0) die("shared_files: dup");
  fcntl(d, F_SETFL, fcntl(d, F_GETFL) | O_NONBLOCK);  // through D, seen through all

  int g = make_ghost();
  int g2 = open(ghost_path.c_str(), O_RDONLY | O_CLOEXEC);
  auto* map =
      static_cast<unsigned char*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, g, 0));
  if (g2 < 0 || map == MAP_FAILED) die("shared_files: second open or mmap of the ghost");
  if (unlink(ghost_path.c_str()) != 0) die("shared_files: unlink the ghost");

  int sp[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) die("shared_files: socketpair");
  pid_t child = fork();
  if (child < 0) die("shared_files: fork");
  Parent parent{dir, {a, b, c, d}, r, g, g2, map};
  Child kid{dir, {a, -1}, g, map};
  int me = child == 0 ? 1 : 0;
  if (me == 1) {
    close(sp[0]);
    kid.holders[1] = receive_fd(sp[1]);
    close(sp[1]);
    close(b);
    close(c);
    close(d);
    close(r);
    close(g2);
  } else {
    close(sp[1]);
    send_fd(sp[0], b);
    close(sp[0]);
  }

  std::string status = dir + "/status-" + std::to_string(getpid());
  uint64_t counter = 0;
  for (;;) {
    if (__atomic_load_n(&ctl->turn, __ATOMIC_ACQUIRE) == static_cast<uint32_t>(me)) {
      if (me == 0) {
        parent.turn();
        if (g_report) {
          g_report = 0;
          parent.report();
        }
      } else {
        kid.turn();
        if (g_report) {
          g_report = 0;
          kid.round++;
          kid.pending = true;
        }
        if (kid.pending) kid.try_report();
      }
      __atomic_store_n(&ctl->turn, static_cast<uint32_t>(1 - me), __ATOMIC_RELEASE);
      workload::replace_file(status, "counter=" + std::to_string(++counter) + "\n");
    }
    usleep(2000);
  }
}
