// A workload under seccomp filters that checks them from inside, across checkpoint/restore.
// The main thread sets no_new_privs and installs two filters (raw classic BPF): getppid fails
// with EBADFD, then (with SECCOMP_FILTER_FLAG_LOG) uname fails with ENOKEY. It then starts a
// worker that inherits both and installs a third of its own, without TSYNC, so the threads'
// chains differ: getpriority(PRIO_PROCESS, 0x5ecc) fails with ENODATA in the worker only (the
// main thread gets the kernel's ESRCH: no such pid). Each thread redoes the calls in a loop and
// records the errnos, its /proc/thread-self/status "Seccomp:" and "Seccomp_filters:" values and
// a round counter. On SIGUSR1 the main thread writes DIR/report:
//   thread=I tid=T rounds=N getppid=E uname=E magic=E seccomp=M filters=F   (one per thread)
//   pid=P token=X
//   end
// A restored process must show the same errnos, modes, filter counts, tids, pid and token, and
// rounds that went on from where they were.
// On SIGUSR2 the worker installs an allow-all filter with SECCOMP_FILTER_FLAG_TSYNC, which the
// kernel grants only if every thread's chain is an ancestor of the worker's (the main thread's
// two filters must be the very ones the worker inherited, not copies): the report's last line
// "tsync=R" has R = 0 on success, the tid of the thread that blocked it, -errno, or -1000 if
// not tried yet. It adds a filter to both threads.
//
// "seccomp_filtered DIR notify" also installs a filter that sends getuid to a user-space
// notifier (SECCOMP_FILTER_FLAG_NEW_LISTENER; the listener fd is closed again): a checkpoint
// must refuse it.
//
// usage: seccomp_filtered DIR [notify]
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

constexpr int kThreads = 2;
constexpr long kMagicWho = 0x5ecc;

struct Observed {
  std::atomic<long> tid{0};
  std::atomic<long> rounds{0};
  std::atomic<int> getppid_errno{0}, uname_errno{0}, magic_errno{0};
  std::atomic<int> seccomp{-1}, filters{-1};
  // 1 once this thread's latest observation began after the TSYNC install finished: only then
  // do its seccomp values show the synced filter.
  std::atomic<int> after_tsync{0};
};

Observed g_seen[kThreads];  // written by each thread, read by the reporter
volatile sig_atomic_t g_report = 0;
std::atomic<int> g_tsync_request{0};  // lock-free: set from the SIGUSR2 handler
std::atomic<long> g_tsync_result{-1000};
std::atomic<bool> g_tsync_done{false};

void on_usr1(int) {
  g_report = 1;
}

void on_usr2(int) {
  g_tsync_request.store(1);
}

void sleep_ms(int ms) {
  timespec ts{0, ms * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

// The filter prologue: anything but x86-64 is let through (the test runs x86-64 only), then
// the syscall number is loaded into A.
#define PROLOGUE                                                           \
  BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)), \
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),        \
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),                        \
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))

void install(sock_filter* code, size_t len, unsigned flags, const char* what) {
  sock_fprog prog{static_cast<unsigned short>(len), code};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) != 0) {
    std::fprintf(stderr, "seccomp_filtered: installing %s: %s\n", what, std::strerror(errno));
    std::exit(2);
  }
}

// `nr` fails with `err`; everything else is allowed.
void deny(long nr, int err, unsigned flags, const char* what) {
  sock_filter code[] = {
      PROLOGUE,
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(nr), 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | static_cast<uint32_t>(err)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  install(code, sizeof code / sizeof code[0], flags, what);
}

// getpriority(PRIO_PROCESS, kMagicWho) fails with ENODATA; other getpriority calls pass.
void deny_magic_getpriority() {
  sock_filter code[] = {
      PROLOGUE,
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpriority, 0, 5),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PRIO_PROCESS, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kMagicWho, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENODATA),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  install(code, sizeof code / sizeof code[0], 0, "the worker's getpriority filter");
}

// getuid goes to a user-space notifier, whose listener fd we drop: the kernel then fails the
// call with ENOSYS, but the filter still names a notifier.
void notify_getuid() {
  sock_filter code[] = {
      PROLOGUE,
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getuid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
  long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
  if (fd < 0) {
    std::perror("seccomp_filtered: installing the notifier filter");
    std::exit(2);
  }
  close(static_cast<int>(fd));
}

int errno_of(long ret) {
  return ret < 0 ? errno : 0;
}

// This thread's own view: /proc/thread-self is per thread, /proc/self would be the leader's.
void read_status(int& mode, int& filters) {
  mode = filters = -1;
  FILE* f = std::fopen("/proc/thread-self/status", "r");
  if (f == nullptr) return;
  char line[256];
  while (std::fgets(line, sizeof line, f) != nullptr) {
    std::sscanf(line, "Seccomp: %d", &mode);
    std::sscanf(line, "Seccomp_filters: %d", &filters);
  }
  std::fclose(f);
}

void observe(Observed& o) {
  bool synced = g_tsync_done.load();
  o.tid.store(syscall(SYS_gettid));
  o.getppid_errno.store(errno_of(syscall(SYS_getppid)));
  utsname u;
  o.uname_errno.store(errno_of(syscall(SYS_uname, &u)));
  o.magic_errno.store(errno_of(syscall(SYS_getpriority, PRIO_PROCESS, kMagicWho)));
  int mode = -1, filters = -1;
  read_status(mode, filters);
  o.seccomp.store(mode);
  o.filters.store(filters);
  o.after_tsync.store(synced ? 1 : 0);
  o.rounds.fetch_add(1);
}

// seccomp(2): with TSYNC, the result is 0 or the tid of a thread that could not be synced.
void tsync_allow_all() {
  sock_filter code[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  sock_fprog prog{1, code};
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
  g_tsync_result.store(r < 0 ? -errno : r);
  g_tsync_done.store(true);
}

void worker(std::atomic<bool>& ready) {
  deny_magic_getpriority();
  ready.store(true);
  for (;;) {
    if (g_tsync_request.exchange(0) != 0) tsync_allow_all();
    observe(g_seen[1]);
    sleep_ms(3);
  }
}

void write_report(const std::string& dir, uint64_t token) {
  std::string tmp = dir + "/report.tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return;
  for (int i = 0; i < kThreads; ++i) {
    const Observed& o = g_seen[i];
    std::fprintf(f,
                 "thread=%d tid=%ld rounds=%ld getppid=%d uname=%d magic=%d seccomp=%d filters=%d "
                 "after_tsync=%d\n",
                 i, o.tid.load(), o.rounds.load(), o.getppid_errno.load(), o.uname_errno.load(),
                 o.magic_errno.load(), o.seccomp.load(), o.filters.load(), o.after_tsync.load());
  }
  std::fprintf(f, "pid=%d token=%llx\ntsync=%ld\nend\n", getpid(),
               static_cast<unsigned long long>(token), g_tsync_result.load());
  std::fclose(f);
  std::rename(tmp.c_str(), (dir + "/report").c_str());
}

}  // namespace

int main(int argc, char** argv) {
  bool notify = argc == 3 && std::string(argv[2]) == "notify";
  if (argc != 2 && !notify) {
    std::fprintf(stderr, "usage: seccomp_filtered DIR [notify]\n");
    return 2;
  }
  std::string dir = argv[1];
  // First: as the namespace's init, a SIGUSR1 that comes while its action is SIG_DFL is
  // dropped, and the test's first request for a report would be lost.
  struct sigaction sa {};
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, nullptr);
  sa.sa_handler = on_usr2;
  sigaction(SIGUSR2, &sa, nullptr);
  uint64_t token = 0;
  if (getrandom(&token, sizeof token, 0) != sizeof token) return 2;

  // As an unprivileged program would: no_new_privs lets it install filters without
  // CAP_SYS_ADMIN.
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    std::perror("seccomp_filtered: prctl(PR_SET_NO_NEW_PRIVS)");
    return 2;
  }
  deny(SYS_getppid, EBADFD, 0, "the getppid filter");
  deny(SYS_uname, ENOKEY, SECCOMP_FILTER_FLAG_LOG, "the uname filter");
  if (notify) notify_getuid();

  // The worker blocks SIGUSR1 so the main thread is the one to take it.
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, nullptr);
  std::atomic<bool> ready{false};
  std::thread(worker, std::ref(ready)).detach();
  while (!ready.load()) sleep_ms(1);
  pthread_sigmask(SIG_UNBLOCK, &usr1, nullptr);
  for (;;) {
    observe(g_seen[0]);
    if (g_report) {
      g_report = 0;
      write_report(dir, token);
    }
    sleep_ms(2);
  }
}
