// Allocates and touches N MiB, then reports it survived. Under a smaller memory limit the
// kernel's OOM killer must stop it instead.
#include <sys/mman.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  size_t mib = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 64;
  size_t len = mib << 20;
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return 2;
  std::memset(p, 0x5a, len);
  std::printf("survived %zu MiB\n", mib);
  return 0;
}
