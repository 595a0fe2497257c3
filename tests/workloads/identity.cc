// Workload of the non-root checkpoint test: reports, from inside, who it runs as and the
// limits it runs under, so a test can tell whether a restore gave them back.
//
//   identity DIR [CHILDREN]
//
// At start it lowers a few of its own rlimits (allowed without privilege) to values no default
// has and forks CHILDREN (default 0) processes that inherit them; each process counts forever,
// rewriting DIR/status-<pid> as "counter=N" every 10 ms. On SIGUSR1 it writes DIR/report-<pid>:
//   counter=N uid=R/E/S gid=R/E/S groups=G,G rlimit0=SOFT/HARD ... rlimit15=SOFT/HARD
// (getresuid, getresgid, getgroups and getrlimit; "inf" for RLIM_INFINITY).
#include <grp.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "report_file.h"

namespace {

volatile sig_atomic_t g_report = 0;
void on_usr1(int) {
  g_report = 1;
}

std::string limit(rlim_t v) {
  return v == RLIM_INFINITY ? "inf" : std::to_string(v);
}

std::string report(unsigned long counter) {
  uid_t ru, eu, su;
  gid_t rg, eg, sg;
  getresuid(&ru, &eu, &su);
  getresgid(&rg, &eg, &sg);
  std::string out = "counter=" + std::to_string(counter) + " uid=" + std::to_string(ru) + "/" +
                    std::to_string(eu) + "/" + std::to_string(su) + " gid=" + std::to_string(rg) +
                    "/" + std::to_string(eg) + "/" + std::to_string(sg) + " groups=";
  gid_t groups[64];
  int n = getgroups(64, groups);
  for (int i = 0; i < n; ++i) out += (i ? "," : "") + std::to_string(groups[i]);
  for (int r = 0; r < RLIM_NLIMITS; ++r) {
    struct rlimit lim {};
    getrlimit(static_cast<__rlimit_resource>(r), &lim);
    out += " rlimit" + std::to_string(r) + "=" + limit(lim.rlim_cur) + "/" + limit(lim.rlim_max);
  }
  return out + "\n";
}

void lower(int resource, rlim_t soft, rlim_t hard) {
  struct rlimit lim = {soft, hard};
  if (setrlimit(static_cast<__rlimit_resource>(resource), &lim) != 0) _exit(3);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    std::fprintf(stderr, "usage: identity DIR [CHILDREN]\n");
    return 2;
  }
  std::string dir = argv[1];
  int children = argc == 3 ? std::atoi(argv[2]) : 0;
  lower(RLIMIT_NOFILE, 777, 888);
  lower(RLIMIT_CORE, 4096, 8192);
  lower(RLIMIT_FSIZE, 123456789, 987654321);
  lower(RLIMIT_MSGQUEUE, 40000, 50000);
  lower(RLIMIT_RTTIME, 250000, 500000);
  struct sigaction sa {};
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, nullptr);
  // Children never exit and the test kills the whole container: nothing to reap.
  for (int i = 0; i < children; ++i) {
    pid_t pid = fork();
    if (pid < 0) _exit(3);
    if (pid == 0) break;
  }
  std::string me = std::to_string(getpid());
  for (unsigned long counter = 1;; ++counter) {
    // A failed write shows as a missing status or report in the test.
    workload::replace_file(dir + "/status-" + me, "counter=" + std::to_string(counter) + "\n");
    if (g_report) {
      g_report = 0;
      workload::replace_file(dir + "/report-" + me, report(counter));
    }
    usleep(10000);
  }
}
