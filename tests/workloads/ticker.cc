// ticker DIR N: starts N processes (itself and N-1 children); each increments a counter and
// writes it to DIR/tick-<i> every 20 ms. A test reads the files from the host to see whether
// every process runs (counters advance) or is frozen (counters stand still).
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

[[noreturn]] static void tick(const std::string& dir, int index) {
  std::string path = dir + "/tick-" + std::to_string(index);
  std::string tmp = path + ".tmp";
  for (unsigned long n = 0;; ++n) {
    FILE* f = std::fopen(tmp.c_str(), "w");
    if (f != nullptr) {
      std::fprintf(f, "%lu\n", n);
      std::fclose(f);
      std::rename(tmp.c_str(), path.c_str());
    }
    usleep(20000);
  }
}

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  std::string dir = argv[1];
  int n = std::atoi(argv[2]);
  for (int i = 1; i < n; ++i)
    if (fork() == 0) tick(dir, i);
  tick(dir, 0);
}
