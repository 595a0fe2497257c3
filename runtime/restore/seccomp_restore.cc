// Seccomp filters, restored per thread by injecting seccomp(SECCOMP_SET_MODE_FILTER) into the
// thread for each filter of its dumped chain, oldest first (the kernel runs the newest first
// and the most restrictive action wins, so the order of the chain is part of its meaning).
//
// When: as late as possible, so the rest of the restore never runs under the workload's filters,
// but while the task still holds CAP_SYS_ADMIN: without it the kernel demands no_new_privs for a
// filter install (seccomp(2)). A process dumped with no_new_privs gets it just before its
// filters (it only affects execve, so the credential stage is unchanged; credentials_restore.cc
// sets it again); one without it relies on CAP_SYS_ADMIN. The injected calls after the install
// (credentials, the code-area munmap) pass because every task is seized with
// PTRACE_O_SUSPEND_SECCOMP (RestoreOptions::suspend_seccomp), which the restore requires.
//
// Threads inherit the filters of the thread that clones them, and seccomp's TSYNC only works
// when every thread's chain is an ancestor of the caller's: so the part of the chain common to
// all threads is installed once on the leader just before it clones the others (threads_restore),
// keeping it one shared chain as in the dumped process; each thread then adds its own rest.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <string>

#include "common/error.h"
#include "runtime/restore/restore_context.h"

namespace ckpt::restore {

namespace {

constexpr uint64_t kRestorableFlags = SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW;
constexpr size_t kMaxInsns = BPF_MAXINSNS;  // per classic program (linux/bpf_common.h)
// Scratch layout of one install: struct sock_fprog, then the program.
constexpr size_t kProgramOffset = 64;

std::string thread_name(const model::Thread& t) {
  return "thread " + std::to_string(t.tid);
}

void install(ProcessContext& ctx, const model::Thread& t, size_t index) {
  const std::string& program = t.seccomp_filters[index];
  uint64_t code = ctx.put(program.data(), program.size(), kProgramOffset);
  sock_fprog fprog{};
  fprog.len = static_cast<unsigned short>(program.size() / sizeof(sock_filter));
  fprog.filter = reinterpret_cast<sock_filter*>(code);
  uint64_t args = ctx.put(&fprog, sizeof fprog, 0);
  with_context("seccomp filter " + std::to_string(index + 1) + " of " +
                   std::to_string(t.seccomp_filters.size()),
               [&] {
                 ctx.remote.check("seccomp(SECCOMP_SET_MODE_FILTER)", SYS_seccomp,
                                  SECCOMP_SET_MODE_FILTER, t.seccomp_filter_flags[index], args);
               });
}

void install_range(ProcessContext& ctx, const model::Thread& t, size_t begin, size_t end) {
  check_seccomp(t, ctx.scratch_size() - kProgramOffset);
  if (begin >= end) return;
  with_context(thread_name(t), [&] {
    // A task without CAP_SYS_ADMIN may only install filters under no_new_privs. If the dumped
    // process had it, setting it now is harmless (it only affects execve) and lets the install
    // work in a restore that runs with fewer capabilities.
    if (ctx.process.no_new_privs) {
      ctx.remote.check("prctl(PR_SET_NO_NEW_PRIVS)", SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    }
    for (size_t i = begin; i < end; ++i) install(ctx, t, i);
  });
}

}  // namespace

void check_seccomp(const model::Thread& t, size_t max_program_bytes) {
  const std::string who = thread_name(t);
  const size_t count = t.seccomp_filters.size();
  switch (t.seccomp_mode) {
    case SECCOMP_MODE_DISABLED:
      if (count != 0) {
        throw Error(who + " has seccomp mode 0 but " + std::to_string(count) + " filters", 0,
                    "the image is damaged");
      }
      return;
    case SECCOMP_MODE_STRICT:
      throw Error(who + " is in seccomp strict mode, which this restore cannot recreate", 0,
                  "the image was not written by this crun-ckpt");
    case SECCOMP_MODE_FILTER:
      break;
    default:
      throw Error(who + " has unknown seccomp mode " + std::to_string(t.seccomp_mode), 0,
                  "the image is damaged or from a newer crun-ckpt");
  }
  if (count == 0) {
    throw Error(who + " is in seccomp filter mode without filters", 0, "the image is damaged");
  }
  if (t.seccomp_filter_flags.size() != count) {
    throw Error(who + " has " + std::to_string(count) + " seccomp filters but " +
                    std::to_string(t.seccomp_filter_flags.size()) + " flag words",
                0, "the image is damaged");
  }
  for (size_t i = 0; i < count; ++i) {
    const std::string which =
        who + ": seccomp filter " + std::to_string(i + 1) + " of " + std::to_string(count);
    size_t bytes = t.seccomp_filters[i].size();
    if (bytes == 0 || bytes % sizeof(sock_filter) != 0 || bytes / sizeof(sock_filter) > kMaxInsns ||
        bytes > max_program_bytes) {
      throw Error(which + " has " + std::to_string(bytes) + " bytes; a program is 1 to " +
                      std::to_string(kMaxInsns) + " instructions of " +
                      std::to_string(sizeof(sock_filter)) + " bytes",
                  0, "the image is damaged");
    }
    if ((t.seccomp_filter_flags[i] & ~kRestorableFlags) != 0) {
      throw Error(which + " has flags " + std::to_string(t.seccomp_filter_flags[i]) +
                      "; only SECCOMP_FILTER_FLAG_LOG and SPEC_ALLOW can be restored",
                  0, "the image is damaged or from a newer crun-ckpt");
    }
  }
}

size_t shared_seccomp_prefix(const model::Process& p) {
  if (p.threads.size() < 2) return 0;
  const model::Thread& first = p.threads[0];
  size_t n = first.seccomp_filters.size();
  for (const model::Thread& t : p.threads) {
    size_t same = 0;
    while (same < n && same < t.seccomp_filters.size() && same < t.seccomp_filter_flags.size() &&
           same < first.seccomp_filter_flags.size() &&
           t.seccomp_filters[same] == first.seccomp_filters[same] &&
           t.seccomp_filter_flags[same] == first.seccomp_filter_flags[same]) {
      ++same;
    }
    n = same;
  }
  return n;
}

void restore_shared_seccomp(ProcessContext& leader, bool suspend_seccomp) {
  for (const model::Thread& t : leader.process.threads) {
    if (!suspend_seccomp &&
        (t.seccomp_mode != SECCOMP_MODE_DISABLED || !t.seccomp_filters.empty())) {
      throw Error(thread_name(t) +
                      " has seccomp filters but the restore does not seize with "
                      "PTRACE_O_SUSPEND_SECCOMP: its own injected syscalls would be filtered",
                  0, "set RestoreOptions::suspend_seccomp");
    }
  }
  size_t shared = shared_seccomp_prefix(leader.process);
  if (shared > 0) install_range(leader, leader.process.threads.at(0), 0, shared);
}

void restore_seccomp(ProcessContext& ctx, const model::Thread& thread) {
  if (thread.seccomp_mode == SECCOMP_MODE_DISABLED && thread.seccomp_filters.empty()) return;
  install_range(ctx, thread, shared_seccomp_prefix(ctx.process), thread.seccomp_filters.size());
}

}  // namespace ckpt::restore
