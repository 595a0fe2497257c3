#include "runtime/checkpoint/ptrace_queries.h"

#include <signal.h>
#include <sys/ptrace.h>

#include <cstring>

#include "common/error.h"

namespace ckpt::checkpoint {

namespace {

// From <linux/ptrace.h>; glibc's <sys/ptrace.h> may lack the newer ones and clashes with it.
constexpr int kPeekSigInfo = 0x4209;
constexpr int kGetRseqConfiguration = 0x420f;
constexpr uint32_t kPeekSigInfoShared = 1;

struct PeekSigInfoArgs {
  uint64_t off;
  uint32_t flags;
  int32_t nr;
};

struct RseqConfiguration {
  uint64_t rseq_abi_pointer;
  uint32_t rseq_abi_size;
  uint32_t signature;
  uint32_t flags;
  uint32_t pad;
};

long raw_ptrace(int request, pid_t tid, uint64_t addr, void* data) {
  return ptrace(static_cast<__ptrace_request>(request), tid, reinterpret_cast<void*>(addr), data);
}

std::string who(pid_t tid) {
  return "task " + std::to_string(tid);
}

}  // namespace

std::vector<std::string> with_original_siginfo(std::vector<std::string> queued,
                                               const std::vector<siginfo_t>& originals) {
  std::vector<bool> taken(queued.size(), false);
  for (const siginfo_t& original : originals) {
    std::string bytes(reinterpret_cast<const char*>(&original), sizeof original);
    bool by_number = !(original.si_code < 0 && original.si_code != SI_TKILL);
    bool found = false;
    for (size_t i = 0; i < queued.size() && !found; ++i) {
      if (taken[i] || queued[i].size() != sizeof(siginfo_t)) continue;
      siginfo_t entry;
      std::memcpy(&entry, queued[i].data(), sizeof entry);
      bool match = by_number ? entry.si_signo == original.si_signo && entry.si_code == SI_TKILL
                             : queued[i] == bytes;
      if (match) {
        queued[i] = bytes;
        taken[i] = found = true;
      }
    }
    if (!found) {
      queued.push_back(bytes);
      taken.push_back(true);
    }
  }
  return queued;
}

std::vector<std::string> peek_pending(pid_t tid, bool shared) {
  std::vector<std::string> out;
  constexpr int kBatch = 32;
  siginfo_t infos[kBatch];
  for (;;) {
    PeekSigInfoArgs args{out.size(), shared ? kPeekSigInfoShared : 0, kBatch};
    long n = raw_ptrace(kPeekSigInfo, tid, reinterpret_cast<uint64_t>(&args), infos);
    if (n < 0) throw sys_error("ptrace peeksiginfo " + who(tid));
    for (long i = 0; i < n; ++i)
      out.emplace_back(reinterpret_cast<const char*>(&infos[i]), sizeof(siginfo_t));
    if (n < kBatch) return out;
  }
}

RseqConfig get_rseq(pid_t tid) {
  RseqConfiguration conf{};
  long n = raw_ptrace(kGetRseqConfiguration, tid, sizeof conf, &conf);
  if (n < 0) {
    if (errno == EIO || errno == EINVAL) return {};  // kernel without the request: no rseq
    throw sys_error("ptrace get rseq configuration " + who(tid));
  }
  return RseqConfig{conf.rseq_abi_pointer, conf.rseq_abi_size, conf.signature};
}

}  // namespace ckpt::checkpoint
