#include "restore_snapshot.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <sstream>

#include "common/error.h"
#include "common/file_util.h"
#include "runtime/task/maps.h"
#include "runtime/task/memory.h"
#include "runtime/task/proc.h"
#include "runtime/task/ptrace_attachment.h"
#include "runtime/task/registers.h"
#include "runtime/task/remote_syscall.h"

namespace ckpt::test {

namespace {

class StringStream final : public image::StreamReader {
 public:
  explicit StringStream(const std::string& data) : data_(data) {}
  void read(void* out, size_t len) override {
    if (pos_ + len > data_.size()) throw Error("memory stream truncated");
    std::memcpy(out, data_.data() + pos_, len);
    pos_ += len;
  }
  void skip(size_t len) override { pos_ += len; }
  void finish() override {
    if (pos_ != data_.size()) throw Error("memory stream not read to its end");
  }

 private:
  const std::string& data_;
  size_t pos_ = 0;
};

std::string readlink_str(const std::string& path) {
  char buf[4096];
  ssize_t n = readlink(path.c_str(), buf, sizeof(buf));
  if (n < 0) throw sys_error("readlink " + path);
  return std::string(buf, n);
}

std::vector<pid_t> tree_of(pid_t init) {
  std::vector<pid_t> out, todo = {init};
  while (!todo.empty()) {
    pid_t p = todo.front();
    todo.erase(todo.begin());
    out.push_back(p);
    std::string kids =
        read_file("/proc/" + std::to_string(p) + "/task/" + std::to_string(p) + "/children");
    for (const std::string& k : split(kids, ' ')) {
      if (!trim(k).empty()) todo.push_back(std::stoi(std::string(trim(k))));
    }
  }
  return out;
}

// /proc/PID/stat fields after the comm, 1-based as in proc(5).
std::vector<std::string> stat_fields(pid_t pid) {
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  std::istringstream in(stat.substr(stat.rfind(')') + 2));
  std::vector<std::string> f = {"", "", ""};  // fields 1 and 2 (pid, comm) are skipped
  std::string w;
  while (in >> w) f.push_back(w);
  return f;
}

model::VmaKind classify(const task::MapEntry& m) {
  if (m.name == "[vdso]") return model::VmaKind::vdso;
  if (m.name.rfind("[vvar", 0) == 0) return model::VmaKind::vvar;
  if (m.name == "[vsyscall]") return model::VmaKind::vsyscall;
  if (m.inode != 0) return m.shared ? model::VmaKind::file_shared : model::VmaKind::file_private;
  return m.shared ? model::VmaKind::anonymous_shared : model::VmaKind::anonymous_private;
}

// PTRACE_PEEKSIGINFO: the queued siginfos without dequeuing them.
std::vector<model::PendingSignal> peek_pending(pid_t tid, bool shared) {
  std::vector<model::PendingSignal> out;
  for (uint64_t off = 0;; ++off) {
    struct {
      uint64_t off;
      uint32_t flags;
      int32_t nr;
    } args{off, shared ? 1u : 0u, 1};  // PTRACE_PEEKSIGINFO_SHARED = 1
    siginfo_t info;
    long n = ptrace(PTRACE_PEEKSIGINFO, tid, &args, &info);
    if (n < 0) throw sys_error("ptrace peeksiginfo");
    if (n == 0) break;
    out.push_back({std::string(reinterpret_cast<char*>(&info), sizeof(info))});
  }
  return out;
}

void snapshot_process(task::SeizedTask& task, pid_t ns_pid, pid_t ns_ppid, Snapshot& snap) {
  pid_t host = task.tid();
  model::Process p;
  p.pid = ns_pid;
  p.ppid = ns_ppid;
  std::string proc = "/proc/" + std::to_string(host);
  std::vector<task::MapEntry> maps = task::read_maps(host);
  model::Thread t;
  t.tid = ns_pid;
  task::Regs regs = task::get_regs(host);
  t.regs_file = "regs-" + std::to_string(ns_pid);
  snap.image.files[t.regs_file] = std::string(reinterpret_cast<char*>(&regs), sizeof(regs));
  t.xstate_file = "xstate-" + std::to_string(ns_pid);
  snap.image.files[t.xstate_file] = task::get_xstate(host);
  t.fs_base = regs.fs_base;
  t.gs_base = regs.gs_base;
  if (ptrace(PTRACE_GETSIGMASK, host, sizeof(t.blocked_mask), &t.blocked_mask) != 0) {
    throw sys_error("getsigmask");
  }
  t.pending = peek_pending(host, false);
  p.shared_pending = peek_pending(host, true);
  task::RseqConfig rseq = task::get_rseq(host);
  t.rseq_addr = rseq.addr;
  t.rseq_len = rseq.len;
  t.rseq_sig = rseq.signature;

  {
    task::RemoteSyscaller remote(task);
    p.pgid = static_cast<pid_t>(remote.check("getpgid", SYS_getpgid, 0));
    p.sid = static_cast<pid_t>(remote.check("getsid", SYS_getsid, 0));
    p.mm.brk = static_cast<uint64_t>(remote.call(SYS_brk, 0));
    p.securebits = static_cast<uint32_t>(remote.check("prctl", SYS_prctl, PR_GET_SECUREBITS));
    p.dumpable = static_cast<int>(remote.check("prctl", SYS_prctl, PR_GET_DUMPABLE));
    uint64_t scratch = remote.check("mmap", SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS, static_cast<uint64_t>(-1), 0);
    task::TaskMemory mem(host);
    for (int sig = 1; sig <= 64; ++sig) {
      if (sig == SIGKILL || sig == SIGSTOP) continue;
      remote.check("rt_sigaction", SYS_rt_sigaction, sig, 0, scratch, 8);
      uint64_t act[4];
      mem.read(scratch, act, sizeof(act));
      if (act[0] != 0) p.sigactions.push_back({sig, act[0], act[1], act[2], act[3]});
    }
    remote.check("prctl(PR_GET_TID_ADDRESS)", SYS_prctl, PR_GET_TID_ADDRESS, scratch);
    mem.read(scratch, &t.clear_child_tid, sizeof(t.clear_child_tid));
    remote.check("munmap", SYS_munmap, scratch, 4096);
  }  // registers restored

  std::vector<std::string> f = stat_fields(host);
  auto num = [&](int i) { return std::stoull(f.at(i)); };
  p.mm.start_code = num(26);
  p.mm.end_code = num(27);
  p.mm.start_stack = num(28);
  p.mm.start_data = num(45);
  p.mm.end_data = num(46);
  p.mm.start_brk = num(47);
  p.mm.arg_start = num(48);
  p.mm.arg_end = num(49);
  p.mm.env_start = num(50);
  p.mm.env_end = num(51);
  std::string auxv = read_file(proc + "/auxv");
  p.mm.auxv.resize(auxv.size() / 8);
  std::memcpy(p.mm.auxv.data(), auxv.data(), p.mm.auxv.size() * 8);
  p.mm.exe_path = readlink_str(proc + "/exe");
  p.cwd = readlink_str(proc + "/cwd");
  p.comm = std::string(trim(read_file(proc + "/comm")));
  for (const std::string& line : split(read_file(proc + "/status"), '\n')) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    std::string value(trim(line.substr(colon + 1)));
    std::istringstream in(value);
    if (key == "Umask") p.umask = std::stoul(value, nullptr, 8);
    if (key == "Uid") in >> p.uid[0] >> p.uid[1] >> p.uid[2] >> p.uid[3];
    if (key == "Gid") in >> p.gid[0] >> p.gid[1] >> p.gid[2] >> p.gid[3];
    if (key == "Groups") {
      uint32_t g;
      while (in >> g) p.groups.push_back(g);
    }
    if (key == "CapInh") p.cap_inheritable = std::stoull(value, nullptr, 16);
    if (key == "CapPrm") p.cap_permitted = std::stoull(value, nullptr, 16);
    if (key == "CapEff") p.cap_effective = std::stoull(value, nullptr, 16);
    if (key == "CapBnd") p.cap_bounding = std::stoull(value, nullptr, 16);
    if (key == "CapAmb") p.cap_ambient = std::stoull(value, nullptr, 16);
    if (key == "NoNewPrivs") p.no_new_privs = value == "1";
  }
  p.personality = std::stoull(std::string(trim(read_file(proc + "/personality"))), nullptr, 16);

  // Each fd its own description (this snapshot does not look for sharing): 0-2 the restore's
  // stdio, the others regular files by path.
  auto add_file = [&](model::File f, int fd, bool cloexec) {
    f.id = snap.checkpoint.files.size() + 1;
    snap.checkpoint.files.push_back(f);
    p.fds.push_back(model::Fd{fd, f.id, cloexec});
  };
  for (int fd : {0, 1, 2}) {
    model::File f;
    f.kind = model::FileKind::external;
    f.stdio = fd == 0 ? "stdin" : fd == 1 ? "stdout" : "stderr";
    add_file(f, fd, false);
  }
  for (const auto& ent : std::filesystem::directory_iterator(proc + "/fd")) {
    int fd = std::stoi(ent.path().filename());
    if (fd <= 2) continue;
    model::File f;
    f.path = readlink_str(ent.path());
    if (f.path.empty() || f.path[0] != '/') {
      throw Error("snapshot: fd " + std::to_string(fd) + " is not a regular file: " + f.path);
    }
    f.kind = model::FileKind::regular;
    for (const std::string& line : split(read_file(proc + "/fdinfo/" + std::to_string(fd)), '\n')) {
      if (line.rfind("pos:", 0) == 0) f.pos = std::stoull(std::string(trim(line.substr(4))));
      if (line.rfind("flags:", 0) == 0)
        f.flags = std::stoi(std::string(trim(line.substr(6))), nullptr, 8);
    }
    bool cloexec = (f.flags & O_CLOEXEC) != 0;
    f.flags &= ~O_CLOEXEC;
    add_file(f, fd, cloexec);
  }

  p.pages_stream = "pages-" + std::to_string(ns_pid);
  std::string& pages = snap.image.streams[p.pages_stream];
  task::TaskMemory mem(host);
  for (const task::MapEntry& m : maps) {
    model::Vma v;
    v.start = m.start;
    v.end = m.end;
    v.prot = m.prot;
    v.flags = (m.shared ? MAP_SHARED : MAP_PRIVATE) | (m.name == "[stack]" ? MAP_GROWSDOWN : 0);
    v.kind = classify(m);
    v.name = m.name;
    if (m.inode != 0) {
      v.path = m.name;
      v.offset = m.offset;
    }
    bool dump = (v.kind == model::VmaKind::anonymous_private && m.prot != 0) ||
                (v.kind == model::VmaKind::file_private && (m.prot & PROT_WRITE));
    if (dump) {
      size_t at = pages.size();
      pages.resize(at + m.size());
      mem.read(m.start, pages.data() + at, m.size());
      v.runs.push_back({m.start, m.size() / 4096});
    }
    p.vmas.push_back(v);
  }
  p.threads.push_back(t);
  snap.checkpoint.processes.push_back(std::move(p));
}

}  // namespace

std::string MemoryImage::read_file(const std::string& name) const {
  auto it = files.find(name);
  if (it == files.end()) throw Error("memory image has no file " + name);
  return it->second;
}

std::unique_ptr<image::StreamReader> MemoryImage::open_stream(const std::string& name) const {
  auto it = streams.find(name);
  if (it == streams.end()) throw Error("memory image has no stream " + name);
  return std::make_unique<StringStream>(it->second);
}

Snapshot snapshot_and_kill_tree(pid_t init_host_pid) {
  Snapshot snap;
  std::vector<pid_t> hosts = tree_of(init_host_pid);
  std::vector<task::SeizedTask> tasks;
  for (pid_t h : hosts) tasks.emplace_back(h, task::SeizeOptions{});
  for (task::SeizedTask& t : tasks) t.interrupt();
  std::map<pid_t, pid_t> ns_of;
  for (pid_t h : hosts) ns_of[h] = task::read_proc_status(h).innermost_pid();
  for (task::SeizedTask& t : tasks) {
    pid_t h = t.tid();
    pid_t host_ppid = task::read_proc_status(h).ppid;
    pid_t ns_ppid = h == init_host_pid ? 0 : ns_of.at(host_ppid);
    snapshot_process(t, ns_of.at(h), ns_ppid, snap);
  }
  snap.checkpoint.xsave_features = task::xsave_features();
  kill(init_host_pid, SIGKILL);  // kills the whole pid namespace
  // Children first: init, dying, waits for its children, whose deaths we must collect first.
  for (auto it = tasks.rbegin(); it != tasks.rend(); ++it) {
    pid_t tid = it->release();
    while (waitpid(tid, nullptr, __WALL) < 0 && errno == EINTR) {
    }
  }
  return snap;
}

}  // namespace ckpt::test
