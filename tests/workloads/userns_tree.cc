// A process tree for user-namespace containers that reports its credentials from inside,
// across checkpoint/restore.
//
//   userns_tree DIR MIB [--setgroups] [--nested]
//
// The init (the namespace's root) fills MIB MiB of private memory, maps one MAP_SHARED page
// every process writes its counter into, leaves one child exited and unreaped (status 9), and
// forks:
//   nonroot        setgroups(1000, 2000, 3000) with --setgroups (the namespace must allow it),
//                  then gids 1000/1001/1002 fs 1003 and uids 1000/1001/1002 fs 1000: no
//                  capabilities left; runs a second thread;
//   nonroot-child  forked by nonroot after the switch, in its own process group;
//   reduced        still uid 0, with a smaller bounding set, permitted/effective/inheritable
//                  sets and one ambient capability, no_new_privs, a seccomp filter that makes
//                  acct(2) fail with errno 77, and a 50 ms interval timer (ITIMER_REAL);
//   nested         with --nested: moves into a user namespace of its own (unshare).
// Every process counts every 10 ms into DIR/status-PID ("counter=N", rewritten in place). On
// SIGUSR1 each writes DIR/report-PID, one line of KEY=VALUE words and a line "end":
//   role pid ppid pgid counter digest start_digest uid gid groups (as /proc/self/status shows
//   them inside: comma lists) capinh capprm capeff capbnd capamb nonewprivs seccomp uid_map
//   gid_map (lines as "inside:outside:count" joined by "/") setgroups shm_init (init's counter
//   as read in the shared page), and per role: thread_uid thread_counter (nonroot), alarms
//   itimer_us acct (reduced), zombie (init: the state letter of its unreaped child)
// and, before that, creates DIR/owner-PID afresh, so the test can see which host ids files
// created now get.
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <sys/fsuid.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>

#include "report_file.h"

namespace {

volatile sig_atomic_t g_report = 0;
volatile sig_atomic_t g_alarms = 0;
void on_usr1(int) {
  g_report = 1;
}
void on_alarm(int) {
  g_alarms = g_alarms + 1;
}

struct Shared {
  std::atomic<uint64_t> counter[8];
};

std::string g_dir;
std::string g_role;
Shared* g_shared = nullptr;
int g_slot = 0;
pid_t g_zombie = 0;
std::atomic<pid_t> g_thread_tid{0};
std::atomic<unsigned long> g_thread_counter{0};

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "userns_tree %s: %s: %s\n", g_role.c_str(), what, std::strerror(errno));
  _exit(3);
}

uint64_t digest(const uint64_t* words, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; ++i) h = (h ^ words[i]) * 0x100000001b3ULL;
  return h;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The value of "Key:" in a /proc status file, its fields joined by commas ("none" if empty).
std::string status_field(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) != 0) continue;
    std::istringstream fields(line.substr(key.size() + 1));
    std::string out, f;
    while (fields >> f) out += (out.empty() ? "" : ",") + f;
    return out.empty() ? "none" : out;
  }
  return "missing";
}

// "0 100000 65536\n1 2 3\n" -> "0:100000:65536/1:2:3".
std::string map_words(const std::string& text) {
  std::istringstream in(text);
  std::string out, a, b, c;
  while (in >> a >> b >> c) out += (out.empty() ? "" : "/") + a + ":" + b + ":" + c;
  return out.empty() ? "none" : out;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

void write_owner_file() {
  std::string path = g_dir + "/owner-" + std::to_string(getpid());
  unlink(path.c_str());
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd >= 0) close(fd);
}

std::string role_report() {
  char buf[256];
  if (g_role == "nonroot") {
    std::string t = slurp("/proc/self/task/" + std::to_string(g_thread_tid.load()) + "/status");
    std::snprintf(buf, sizeof buf, " thread_uid=%s thread_counter=%lu",
                  status_field(t, "Uid").c_str(), g_thread_counter.load());
    return buf;
  }
  if (g_role == "reduced") {
    itimerval it{};
    getitimer(ITIMER_REAL, &it);
    long acct = syscall(SYS_acct, nullptr);
    std::snprintf(buf, sizeof buf, " alarms=%d itimer_us=%ld acct=%d", static_cast<int>(g_alarms),
                  static_cast<long>(it.it_interval.tv_sec * 1000000 + it.it_interval.tv_usec),
                  acct < 0 ? errno : 0);
    return buf;
  }
  if (g_role == "init") {
    std::string stat = slurp("/proc/" + std::to_string(g_zombie) + "/stat");
    size_t close = stat.rfind(')');
    char state = close != std::string::npos && close + 2 < stat.size() ? stat[close + 2] : '?';
    std::snprintf(buf, sizeof buf, " zombie=%c", state);
    return buf;
  }
  return "";
}

void write_report(unsigned long counter, uint64_t now, uint64_t start) {
  write_owner_file();
  std::string st = slurp("/proc/self/status");
  char head[256];
  std::snprintf(head, sizeof head,
                "role=%s pid=%d ppid=%d pgid=%d counter=%lu digest=%016llx start_digest=%016llx",
                g_role.c_str(), getpid(), getppid(), getpgrp(), counter,
                static_cast<unsigned long long>(now), static_cast<unsigned long long>(start));
  std::string line = head;
  line += " uid=" + status_field(st, "Uid") + " gid=" + status_field(st, "Gid") +
          " groups=" + status_field(st, "Groups") + " capinh=" + status_field(st, "CapInh") +
          " capprm=" + status_field(st, "CapPrm") + " capeff=" + status_field(st, "CapEff") +
          " capbnd=" + status_field(st, "CapBnd") + " capamb=" + status_field(st, "CapAmb") +
          " nonewprivs=" + status_field(st, "NoNewPrivs") +
          " seccomp=" + status_field(st, "Seccomp") +
          " uid_map=" + map_words(slurp("/proc/self/uid_map")) +
          " gid_map=" + map_words(slurp("/proc/self/gid_map")) +
          " setgroups=" + trimmed(slurp("/proc/self/setgroups")) +
          " shm_init=" + std::to_string(g_shared->counter[0].load());
  line += role_report();
  workload::replace_file(g_dir + "/report-" + std::to_string(getpid()), line + "\nend\n");
}

// Rewritten in place, not replaced by a rename: a checkpoint may catch the file open, and a
// copy restored while the original runs on must find it under the same name. A reader sees the
// file empty or whole (the size is set after the bytes are copied), never half-written.
void write_status(const std::string& path, unsigned long counter) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;  // a missing status shows in the test
  std::string text = "counter=" + std::to_string(counter) + "\n";
  ssize_t ignored = write(fd, text.data(), text.size());
  (void)ignored;
  close(fd);
}

[[noreturn]] void run(size_t mib) {
  size_t words = (mib << 20) / sizeof(uint64_t);
  auto* mem =
      static_cast<uint64_t*>(mmap(nullptr, words * sizeof(uint64_t) + 8, PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (mem == MAP_FAILED) die("mmap");
  uint64_t x = 0x9e3779b97f4a7c15ULL ^ (static_cast<uint64_t>(getpid()) << 17) ^
               static_cast<uint64_t>(time(nullptr));
  for (size_t i = 0; i < words; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    mem[i] = x;
  }
  const uint64_t start = digest(mem, words);
  std::string status = g_dir + "/status-" + std::to_string(getpid());
  unsigned long counter = 0;
  for (;;) {
    ++counter;
    g_shared->counter[g_slot].store(counter);
    write_status(status, counter);
    if (g_report) {
      g_report = 0;
      write_report(counter, digest(mem, words), start);
    }
    usleep(10000);
  }
}

void* thread_main(void*) {
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigaddset(&usr1, SIGALRM);
  pthread_sigmask(SIG_BLOCK, &usr1, nullptr);
  g_thread_tid = static_cast<pid_t>(syscall(SYS_gettid));
  for (;;) {
    g_thread_counter.fetch_add(1);
    usleep(10000);
  }
}

void become_nonroot(bool set_groups) {
  if (set_groups) {
    gid_t groups[] = {1000, 2000, 3000};
    if (setgroups(3, groups) != 0) die("setgroups");
  }
  if (setresgid(1000, 1001, 1002) != 0) die("setresgid");
  setfsgid(1003);  // still allowed: CAP_SETGID is effective until the uids change
  if (setresuid(1000, 1001, 1002) != 0) die("setresuid");
  setfsuid(1000);  // the real uid: allowed without capabilities
}

void set_caps(uint64_t effective, uint64_t permitted, uint64_t inheritable) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {
      {static_cast<uint32_t>(effective), static_cast<uint32_t>(permitted),
       static_cast<uint32_t>(inheritable)},
      {static_cast<uint32_t>(effective >> 32), static_cast<uint32_t>(permitted >> 32),
       static_cast<uint32_t>(inheritable >> 32)}};
  if (syscall(SYS_capset, &header, data) != 0) die("capset");
}

void become_reduced() {
  for (int cap : {CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_NET_RAW, CAP_SYS_MODULE, CAP_MKNOD}) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) die("PR_CAPBSET_DROP");
  }
  auto bit = [](int cap) { return 1ULL << cap; };
  uint64_t permitted = bit(CAP_CHOWN) | bit(CAP_DAC_OVERRIDE) | bit(CAP_KILL) | bit(CAP_SETGID) |
                       bit(CAP_SETUID) | bit(CAP_NET_BIND_SERVICE);
  uint64_t effective = bit(CAP_CHOWN) | bit(CAP_KILL) | bit(CAP_NET_BIND_SERVICE);
  set_caps(effective, permitted, bit(CAP_NET_BIND_SERVICE));
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0) != 0)
    die("PR_CAP_AMBIENT_RAISE");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("PR_SET_NO_NEW_PRIVS");
  sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_acct, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 77),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) die("seccomp");
  struct sigaction sa {};
  sa.sa_handler = on_alarm;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &sa, nullptr);
  itimerval it{{0, 50000}, {0, 50000}};
  if (setitimer(ITIMER_REAL, &it, nullptr) != 0) die("setitimer");
}

// Forks a process that takes `role` and `slot`, runs `setup` and then the counting loop.
template <typename Setup>
pid_t spawn(const char* role, int slot, size_t mib, Setup setup) {
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid > 0) return pid;
  g_role = role;
  g_slot = slot;
  setup();
  run(mib);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: userns_tree DIR MIB [--setgroups] [--nested]\n");
    return 2;
  }
  g_dir = argv[1];
  size_t mib = std::strtoul(argv[2], nullptr, 10);
  bool set_groups = false, nested = false;
  for (int i = 3; i < argc; ++i) {
    if (std::strcmp(argv[i], "--setgroups") == 0) set_groups = true;
    if (std::strcmp(argv[i], "--nested") == 0) nested = true;
  }
  g_role = "init";
  struct sigaction sa {};
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, nullptr);
  void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) die("mmap shared");
  g_shared = new (page) Shared{};

  g_zombie = fork();
  if (g_zombie < 0) die("fork");
  if (g_zombie == 0) _exit(9);
  siginfo_t info{};
  waitid(P_PID, static_cast<id_t>(g_zombie), &info, WEXITED | WNOWAIT);

  spawn("nonroot", 1, mib, [&] {
    become_nonroot(set_groups);
    spawn("nonroot-child", 2, mib, [] { setpgid(0, 0); });
    pthread_t thread;
    if (pthread_create(&thread, nullptr, thread_main, nullptr) != 0) die("pthread_create");
    while (g_thread_tid == 0) usleep(1000);
  });
  spawn("reduced", 3, mib, [] { become_reduced(); });
  if (nested) {
    spawn("nested", 4, mib, [] {
      if (unshare(CLONE_NEWUSER) != 0) die("unshare(CLONE_NEWUSER)");
    });
  }
  run(mib);
}
