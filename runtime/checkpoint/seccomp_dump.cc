#include "runtime/checkpoint/seccomp_dump.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/ptrace.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/file_util.h"
#include "common/parse_number.h"

namespace ckpt::checkpoint {

namespace {

std::string thread_name(const model::Thread& t) {
  return "thread " + std::to_string(t.tid);
}

// One filter of the chain, by PTRACE_SECCOMP_GET_FILTER's index; nullopt past the end
// (ENOENT).
std::optional<std::string> read_filter(pid_t host_tid, unsigned long index) {
  // A NULL buffer asks for the instruction count only (ptrace(2)).
  long count = ptrace(PTRACE_SECCOMP_GET_FILTER, host_tid, index, nullptr);
  if (count < 0) {
    if (errno == ENOENT) return std::nullopt;
    if (errno == EMEDIUMTYPE) {
      throw Error("the kernel kept no copy of seccomp filter " + std::to_string(index), errno,
                  "checkpointing seccomp filters needs a kernel with CONFIG_CHECKPOINT_RESTORE");
    }
    throw sys_error("ptrace(PTRACE_SECCOMP_GET_FILTER) of filter " + std::to_string(index));
  }
  std::string program(static_cast<size_t>(count) * sizeof(sock_filter), '\0');
  long got = ptrace(PTRACE_SECCOMP_GET_FILTER, host_tid, index, program.data());
  if (got < 0)
    throw sys_error("ptrace(PTRACE_SECCOMP_GET_FILTER) of filter " + std::to_string(index));
  // The thread is stopped, and so are all its siblings: the chain cannot change in between.
  if (got != count) {
    throw Error("seccomp filter " + std::to_string(index) + " changed size while read (" +
                std::to_string(count) + " then " + std::to_string(got) + " instructions)");
  }
  return program;
}

uint64_t read_flags(pid_t host_tid, unsigned long index) {
  __ptrace_seccomp_metadata md{};
  md.filter_off = index;
  if (ptrace(PTRACE_SECCOMP_GET_METADATA, host_tid, sizeof md, &md) < 0) {
    throw sys_error("ptrace(PTRACE_SECCOMP_GET_METADATA) of filter " + std::to_string(index));
  }
  return md.flags;
}

// Index 0 is the oldest filter: kernel/seccomp.c get_nth_filter() counts back from the newest
// to the (count - index)th, whatever ptrace(2) says. That is the model's order too, the one in
// which the restore installs the chain.
void read_chain(pid_t host_tid, model::Thread& t) {
  std::vector<std::string> programs;
  std::vector<uint64_t> flags;
  for (unsigned long index = 0;; ++index) {
    std::optional<std::string> program = read_filter(host_tid, index);
    if (!program) break;
    programs.push_back(std::move(*program));
    flags.push_back(restorable_filter_flags(read_flags(host_tid, index)));
  }
  t.seccomp_filters = std::move(programs);
  t.seccomp_filter_flags = std::move(flags);
}

}  // namespace

uint64_t restorable_filter_flags(uint64_t metadata_flags) {
  return metadata_flags & (SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW);
}

bool returns_user_notif(std::string_view program) {
  for (size_t off = 0; off + sizeof(sock_filter) <= program.size(); off += sizeof(sock_filter)) {
    sock_filter insn;
    std::memcpy(&insn, program.data() + off, sizeof insn);
    if (insn.code == (BPF_RET | BPF_K) &&
        (insn.k & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_USER_NOTIF) {
      return true;
    }
  }
  return false;
}

SeccompStatus parse_seccomp_status(std::string_view status_text) {
  SeccompStatus s;
  bool have_mode = false;
  for_each_proc_field(status_text, [&](const std::string& key, const std::string& value) {
    if (key == "Seccomp") {
      s.mode = parse_number<int>(value, "status: Seccomp");
      have_mode = true;
    } else if (key == "Seccomp_filters") {
      s.filters = parse_number<int>(value, "status: Seccomp_filters");
    }
  });
  if (!have_mode) {
    throw Error("status has no Seccomp: line", 0, "the kernel lacks CONFIG_SECCOMP");
  }
  return s;
}

void dump_seccomp(pid_t host_tid, model::Thread& t) {
  const std::string who = thread_name(t);
  std::string path =
      "/proc/" + std::to_string(host_tid) + "/task/" + std::to_string(host_tid) + "/status";
  SeccompStatus st = with_context(who, [&] { return parse_seccomp_status(read_file(path)); });
  t.seccomp_mode = st.mode;
  t.seccomp_filters.clear();
  t.seccomp_filter_flags.clear();
  if (st.mode == SECCOMP_MODE_DISABLED) return;
  if (st.mode == SECCOMP_MODE_STRICT) {
    throw Error(who + " is in seccomp strict mode, which cannot be checkpointed", 0,
                "checkpoint before the program enters strict mode, or use a seccomp filter");
  }
  if (st.mode != SECCOMP_MODE_FILTER) {
    throw Error(who + " has unknown seccomp mode " + std::to_string(st.mode) + " in " + path);
  }
  with_context(who, [&] { read_chain(host_tid, t); });
  size_t count = t.seccomp_filters.size();
  if (count == 0) throw Error(who + " is in seccomp filter mode but ptrace reports no filter");
  if (st.filters >= 0 && static_cast<size_t>(st.filters) != count) {
    throw Error(who + " has " + std::to_string(count) + " seccomp filters by ptrace but " +
                std::to_string(st.filters) + " by " + path);
  }
  for (size_t i = 0; i < count; ++i) {
    if (returns_user_notif(t.seccomp_filters[i])) {
      throw Error(who + ": seccomp filter " + std::to_string(i + 1) + " of " +
                      std::to_string(count) +
                      " (oldest first) returns SECCOMP_RET_USER_NOTIF; its user-space "
                      "supervisor (listener fd) cannot be checkpointed",
                  0, "run the workload without a seccomp notify supervisor");
    }
  }
}

}  // namespace ckpt::checkpoint
