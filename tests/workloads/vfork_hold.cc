// A process stuck in vfork: the child never calls execve, so its parent waits in the kernel for
// good (wait_for_vfork_done), out of reach of a ptrace interrupt, and the two share one address
// space. A checkpoint must refuse it in bounded time rather than wait for the parent to stop.
//
//   vfork_hold DIR     the vfork child writes DIR/ready and then sleeps forever
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: vfork_hold DIR\n");
    return 2;
  }
  std::string ready = std::string(argv[1]) + "/ready";
  pid_t child = vfork();
  if (child == 0) {
    // Only raw syscalls here: the child runs on its parent's stack and memory.
    int fd =
        static_cast<int>(syscall(SYS_openat, AT_FDCWD, ready.c_str(), O_WRONLY | O_CREAT, 0644));
    if (fd >= 0) syscall(SYS_close, fd);
    for (;;) syscall(SYS_pause);
  }
  return 0;  // reached only if the vfork failed or the child exited
}
