// Forks until fork fails (the pids limit), prints how many children it made, then kills them.
// Used to show that a container's pids limit holds and the host stays fine.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

int main(int argc, char** argv) {
  int max = argc > 1 ? std::atoi(argv[1]) : 10000;
  std::vector<pid_t> children;
  int err = 0;
  while (static_cast<int>(children.size()) < max) {
    pid_t pid = fork();
    if (pid < 0) {
      err = errno;
      break;
    }
    if (pid == 0) {
      pause();
      _exit(0);
    }
    children.push_back(pid);
  }
  std::printf("children=%zu errno=%s\n", children.size(), err ? strerrorname_np(err) : "none");
  std::fflush(stdout);
  for (pid_t pid : children) kill(pid, SIGKILL);
  for (pid_t pid : children) waitpid(pid, nullptr, 0);
  return 0;
}
