// The workload of the namespace-state tests: it changes namespace-scoped state from inside the
// container, as a program would at run time, then counts and reports what it sees.
//
//   nsstate DIR [ACTION...]
//
// Actions, done in order before the loop:
//   --hostname NAME | --domainname NAME   sethostname / setdomainname
//   --shm KEY | --sem KEY N | --msg KEY   a SysV segment (4096 bytes), set of N semaphores or
//                                         message queue with the given key (hex), left unattached
//   --mq NAME                             a POSIX message queue /NAME, left open
//   --mount-tmpfs DIR                     mkdir DIR and mount a tmpfs on it
//   --remount-ro PATH                     make the mount at PATH read-only (a bind remount)
//   --umount PATH                         unmount PATH
//   --unshare-child mnt|uts               fork a child that unshares that namespace and then
//                                         runs the same loop
// A failed action writes DIR/error and exits 1. Then every process rewrites DIR/status-<pid>
// ("counter=N") every 10 ms and, on SIGUSR1, writes DIR/report-<pid>:
//   pid=P counter=N hostname=H domainname=D
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "report_file.h"

namespace {

volatile sig_atomic_t g_report = 0;
void on_usr1(int) {
  g_report = 1;
}

std::string g_dir;

[[noreturn]] void fail(const std::string& what) {
  workload::replace_file(g_dir + "/error", what + ": " + std::strerror(errno) + "\n");
  _exit(1);
}

key_t key_of(const char* text) {
  return static_cast<key_t>(std::strtoul(text, nullptr, 16));
}

[[noreturn]] void run() {
  std::string me = std::to_string(getpid());
  unsigned long counter = 0;
  for (;;) {
    ++counter;
    workload::replace_file(g_dir + "/status-" + me, "counter=" + std::to_string(counter) + "\n");
    if (g_report) {
      g_report = 0;
      struct utsname u {};
      uname(&u);
      char line[512];
      std::snprintf(line, sizeof line, "pid=%d counter=%lu hostname=%s domainname=%s\n", getpid(),
                    counter, u.nodename, u.domainname);
      workload::replace_file(g_dir + "/report-" + me, line);
    }
    usleep(10000);
  }
}

void unshare_child(const std::string& kind) {
  int flag = kind == "mnt" ? CLONE_NEWNS : kind == "uts" ? CLONE_NEWUTS : 0;
  if (flag == 0) {
    errno = EINVAL;
    fail("--unshare-child " + kind);
  }
  pid_t child = fork();
  if (child < 0) fail("fork");
  if (child == 0) {
    if (unshare(flag) != 0) fail("unshare " + kind);
    run();
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: nsstate DIR [ACTION...]\n");
    return 2;
  }
  g_dir = argv[1];
  struct sigaction sa {};
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, nullptr);
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        errno = EINVAL;
        fail(a + " needs a value");
      }
      return argv[++i];
    };
    if (a == "--hostname") {
      const char* name = next();
      if (sethostname(name, std::strlen(name)) != 0) fail("sethostname");
    } else if (a == "--domainname") {
      const char* name = next();
      if (setdomainname(name, std::strlen(name)) != 0) fail("setdomainname");
    } else if (a == "--shm") {
      if (shmget(key_of(next()), 4096, IPC_CREAT | 0600) < 0) fail("shmget");
    } else if (a == "--sem") {
      key_t key = key_of(next());
      if (semget(key, std::atoi(next()), IPC_CREAT | 0600) < 0) fail("semget");
    } else if (a == "--msg") {
      if (msgget(key_of(next()), IPC_CREAT | 0600) < 0) fail("msgget");
    } else if (a == "--mq") {
      std::string name = std::string("/") + next();
      if (mq_open(name.c_str(), O_RDWR | O_CREAT, 0600, nullptr) == static_cast<mqd_t>(-1))
        fail("mq_open " + name);
    } else if (a == "--mount-tmpfs") {
      const char* dir = next();
      if (mkdir(dir, 0755) != 0 && errno != EEXIST) fail(std::string("mkdir ") + dir);
      if (mount("none", dir, "tmpfs", 0, "size=1m") != 0) fail(std::string("mount ") + dir);
    } else if (a == "--remount-ro") {
      const char* path = next();
      // A bind remount changes the mount's own flags, as `mount -o remount,bind,ro` does.
      if (mount(nullptr, path, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0)
        fail(std::string("remount ") + path);
    } else if (a == "--umount") {
      const char* path = next();
      if (umount2(path, 0) != 0) fail(std::string("umount ") + path);
    } else if (a == "--unshare-child") {
      unshare_child(next());
    } else {
      errno = EINVAL;
      fail("unknown action " + a);
    }
  }
  run();
}
