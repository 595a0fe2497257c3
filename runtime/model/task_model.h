// The checkpoint's data model: everything captured of a container's tasks, independent of how
// it is gathered (checkpoint/) or applied (restore/). Serialised into the image manifest body
// as JSON (model_json.h); bulk bytes (memory pages, xsave areas) live in image streams/files
// named here. Pids are the container's own (innermost pid namespace) unless said otherwise.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/id_map.h"

#include "runtime/model/files_model.h"

namespace ckpt::model {

// One contiguous run of dumped pages inside a VMA. The bytes are the next npages*4096 bytes of
// the owning process's page stream (runs are stored in address order).
struct PageRun {
  uint64_t start = 0;  // address
  uint64_t npages = 0;
  bool operator==(const PageRun&) const = default;
};

enum class VmaKind {
  anonymous_private,  // heap, stacks, MAP_PRIVATE|MAP_ANONYMOUS
  anonymous_shared,   // MAP_SHARED|MAP_ANONYMOUS (and /dev/zero shared); contents in shared_id
  file_private,       // MAP_PRIVATE of a file: mapped by path+offset, modified pages dumped
  file_shared,        // MAP_SHARED of a file: mapped by path+offset, contents live in the file
  vdso,               // [vdso]: not dumped; restored by moving the kernel's vdso here
  vvar,               // [vvar] / [vvar_vclock]: not dumped; moves with the vdso
  vsyscall,           // [vsyscall]: fixed by the kernel, skipped
};

struct Vma {
  uint64_t start = 0;
  uint64_t end = 0;
  int prot = 0;   // PROT_*
  int flags = 0;  // MAP_PRIVATE / MAP_SHARED (+ MAP_GROWSDOWN for stacks)
  VmaKind kind = VmaKind::anonymous_private;
  std::string name;           // "[heap]", "[stack]", "[vdso]", "[vvar_vclock]", a path, or ""
  std::string path;           // file mappings: the path inside the container
  uint64_t offset = 0;        // file mappings: file offset; anonymous_shared: offset in the object
  uint64_t shared_id = 0;     // anonymous_shared: identity shared by all processes mapping it
  uint64_t ghost_id = 0;      // file mappings of a deleted file: the GhostFile it maps
  std::vector<PageRun> runs;  // pages stored in the process page stream (private kinds)
  bool operator==(const Vma&) const = default;
};

// The mm fields prctl(PR_SET_MM_MAP) takes, plus what /proc shows of them.
struct MmState {
  uint64_t start_code = 0, end_code = 0, start_data = 0, end_data = 0;
  uint64_t start_brk = 0, brk = 0, start_stack = 0;
  uint64_t arg_start = 0, arg_end = 0, env_start = 0, env_end = 0;
  std::vector<uint64_t> auxv;  // raw AT_* pairs
  std::string exe_path;        // /proc/PID/exe inside the container
  bool operator==(const MmState&) const = default;
};

struct SigAction {
  int signo = 0;
  uint64_t handler = 0;  // SIG_DFL = 0, SIG_IGN = 1, else an address
  uint64_t flags = 0;
  uint64_t restorer = 0;
  uint64_t mask = 0;
  bool operator==(const SigAction&) const = default;
};

struct PendingSignal {
  std::string siginfo;  // 128 raw bytes of siginfo_t, hex-encoded in JSON
  bool operator==(const PendingSignal&) const = default;
};

struct Thread {
  pid_t tid = 0;            // container view
  std::string regs_file;    // image file: raw struct user_regs_struct (NT_PRSTATUS)
  std::string xstate_file;  // image file: raw NT_X86_XSTATE area
  uint64_t fs_base = 0, gs_base = 0;
  uint64_t blocked_mask = 0;
  std::vector<PendingSignal> pending;  // per-thread pending
  // sigaltstack
  uint64_t altstack_sp = 0, altstack_size = 0;
  int altstack_flags = 0;
  // rseq registration (0 = none)
  uint64_t rseq_addr = 0;
  uint32_t rseq_len = 0, rseq_sig = 0;
  uint64_t clear_child_tid = 0;
  std::string comm;  // the thread's own name (/proc/PID/task/TID/comm); empty = the process's
  // Seccomp: mode as in /proc/PID/status (0 none, 1 strict, 2 filter) and, for mode 2, the
  // thread's filter chain, oldest first: each entry raw struct sock_filter[] bytes as
  // PTRACE_SECCOMP_GET_FILTER returns them, with the flags it was installed with.
  int seccomp_mode = 0;
  std::vector<std::string> seccomp_filters;
  std::vector<uint64_t>
      seccomp_filter_flags;  // parallel to seccomp_filters (SECCOMP_FILTER_FLAG_*)
  bool operator==(const Thread&) const = default;
};

// One entry of a process's fd table: the open file description it points at (File::id in
// Checkpoint::files) and the close-on-exec bit, which belongs to the fd, not the description.
struct Fd {
  int fd = 0;
  uint64_t file = 0;
  bool cloexec = false;
  bool operator==(const Fd&) const = default;
};

// An armed interval timer (setitimer); unarmed ones are not recorded.
struct ITimer {
  int which = 0;                           // ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF
  // Time left to the next expiry (0 for a periodic ITIMER_REAL that expired and waits for its
  // SIGALRM to be taken to re-arm); period.
  uint64_t value_ns = 0, interval_ns = 0;
  bool operator==(const ITimer&) const = default;
};

// A POSIX timer (timer_create) of the process, armed or not: its id is visible to the program
// and must come back the same.
struct PosixTimer {
  int id = 0;
  int clock_id = 0;  // CLOCK_* or a CPU-clock id
  int notify = 0;    // SIGEV_SIGNAL, SIGEV_NONE or SIGEV_THREAD_ID
  int signo = 0;
  pid_t notify_tid = 0;                    // SIGEV_THREAD_ID: target thread (container view)
  uint64_t sigev_value = 0;                // sigev_value delivered in si_value
  uint64_t value_ns = 0, interval_ns = 0;  // remaining time (0 = disarmed) and period
  int overrun = 0;
  bool operator==(const PosixTimer&) const = default;
};

struct Rlimit {
  int resource = 0;
  uint64_t soft = 0, hard = 0;
  bool operator==(const Rlimit&) const = default;
};

// One line of /proc/PID/uid_map or gid_map: ids [inside, inside + count) of the namespace are
// ids [outside, outside + count) of the namespace that read the map (user_namespaces(7); for
// the image, the dumping host's).
using IdRange = ckpt::IdRange;  // common/id_map.h

// The container's own user namespace, as the dump found it. The credentials of every Process
// are in its view; a restore must recreate it with the same maps and setgroups mode.
struct UserNamespace {
  std::vector<IdRange> uid_map, gid_map;
  // /proc/PID/setgroups: "allow" or "deny". It is fixed once gid_map is written, and "deny"
  // forbids setgroups(2) inside for good, so the groups of such a namespace's processes are the
  // ones they inherited from the process that created it.
  bool setgroups_allowed = true;

  bool operator==(const UserNamespace&) const = default;
};

struct Process {
  pid_t pid = 0;   // container view
  pid_t ppid = 0;  // container view; 0 for the container's init
  pid_t pgid = 0;
  pid_t sid = 0;
  std::string comm;
  bool zombie = false;
  int exit_status = 0;          // zombies only
  std::vector<Thread> threads;  // threads[0] is the leader (tid == pid)
  std::vector<Vma> vmas;
  std::string pages_stream;  // image stream holding this process's private pages
  MmState mm;
  std::vector<SigAction> sigactions;  // signals 1..64 whose action is not SIG_DFL
  std::vector<PendingSignal> shared_pending;
  std::vector<Fd> fds;
  std::vector<Rlimit> rlimits;
  uint32_t umask = 022;
  std::string cwd, root;
  uint64_t personality = 0;
  int sched_policy = 0, sched_priority = 0, nice = 0;
  // Credentials as the process sees them: in the container's user namespace when it has one
  // (Checkpoint::user_namespace), else the host's.
  uint32_t uid[4] = {}, gid[4] = {};  // real, effective, saved, fs
  std::vector<uint32_t> groups;       // supplementary groups, sorted
  // Supplementary groups the container's user namespace does not map (inherited from the
  // runtime by a namespace whose setgroups is "deny"), as the dumping host's gids, sorted. No
  // process inside can set them: a restore keeps them only by inheriting the same ones.
  std::vector<uint32_t> unmapped_groups;
  uint64_t cap_inheritable = 0, cap_permitted = 0, cap_effective = 0, cap_bounding = 0,
           cap_ambient = 0;
  uint32_t securebits = 0;
  bool no_new_privs = false;
  int dumpable = 1;
  int pdeath_signal = 0;
  bool child_subreaper = false;
  std::vector<ITimer> itimers;
  std::vector<PosixTimer> posix_timers;
  bool operator==(const Process&) const = default;
};

// A shared anonymous region stored once for all processes mapping it.
struct SharedMemory {
  uint64_t id = 0;
  uint64_t size = 0;
  std::string stream;  // image stream with its full contents
  bool operator==(const SharedMemory&) const = default;
};

// The container's UTS names as they were at the freeze (a hostname set at run time included).
struct UtsNames {
  std::string hostname;
  std::string domainname;
  bool operator==(const UtsNames&) const = default;
};

// One tmpfs mounted in the container: its contents are a tree archive (image/tree_archive.h)
// in `stream`, unpacked into the same mount of the restored container before any task is
// restored. Owners in the archive are the container's own ids (mapped through the dumped
// init's uid_map/gid_map), so they mean what `ls -n` showed inside.
struct TmpfsMount {
  std::string mount_point;    // inside the container: "/dev/shm"
  std::string mount_options;  // per-mount flags from mountinfo: "rw,nosuid,nodev,noexec"
  std::string fs_options;     // the tmpfs's own options from mountinfo: "rw,size=65536k,mode=755"
  std::string stream;         // image stream with the archive
  uint64_t entries = 0;       // archive entries, the mount's root directory included
  uint64_t bytes = 0;         // file data stored (holes of sparse files excluded)
  bool operator==(const TmpfsMount&) const = default;
};

struct Checkpoint {
  std::vector<Process> processes;  // parents before children (restore order)
  std::vector<SharedMemory> shared_memory;
  std::vector<TmpfsMount> tmpfs_mounts;  // in mount order: a mount before those inside it
  std::vector<File> files;               // open file descriptions, referenced by Process::fds
  std::vector<GhostFile> ghost_files;    // deleted files' contents, referenced by files and VMAs
  uint64_t xsave_features = 0;  // XCR0 of the dumping host: restore refuses if not a subset
  // Absent when the container had no UTS namespace of its own (then it used the host's).
  std::optional<UtsNames> uts;
  // The container's user namespace; empty when its tasks ran in the dumper's own.
  std::optional<UserNamespace> user_namespace;
  bool operator==(const Checkpoint&) const = default;
};

}  // namespace ckpt::model
