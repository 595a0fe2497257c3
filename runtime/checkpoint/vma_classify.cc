#include "runtime/checkpoint/vma_classify.h"

#include <sys/mman.h>

#include <cctype>
#include <sstream>

#include "common/error.h"
#include "common/file_util.h"

namespace ckpt::checkpoint {

namespace {

constexpr std::string_view kDeleted = " (deleted)";

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// A VMA header line starts with "start-end "; field lines start with "Key:" (smaps keys are
// capitalised words and never contain '-' before the first space, addresses are lowercase hex).
bool is_header(const std::string& line) {
  size_t space = line.find(' ');
  size_t dash = line.find('-');
  if (space == std::string::npos || dash == std::string::npos || dash > space) return false;
  for (size_t i = 0; i < dash; ++i)
    if (!std::isxdigit(static_cast<unsigned char>(line[i]))) return false;
  return dash > 0;
}

std::string describe(const task::MapEntry& m) {
  std::ostringstream out;
  out << "mapping " << std::hex << m.start << '-' << m.end;
  if (!m.name.empty()) out << ' ' << m.name;
  return out.str();
}

Error refuse(const task::MapEntry& m, const std::string& why) {
  return Error(describe(m) + ": " + why);
}

}  // namespace

bool SmapsEntry::has_flag(const char* code) const {
  for (const auto& f : vm_flags)
    if (f == code) return true;
  return false;
}

std::vector<SmapsEntry> parse_smaps(const std::string& text) {
  std::vector<SmapsEntry> out;
  for_each_line(text, [&](size_t lineno, const std::string& line) {
    if (is_header(line)) {
      auto parsed = with_context("smaps line " + std::to_string(lineno),
                                 [&] { return task::parse_maps(line); });
      out.push_back(SmapsEntry{parsed.at(0), {}});
      return;
    }
    if (out.empty()) throw Error("smaps line " + std::to_string(lineno) + ": field before any VMA");
    if (starts_with(line, "VmFlags:")) {
      std::istringstream flags(line.substr(8));
      std::string f;
      while (flags >> f) out.back().vm_flags.push_back(f);
    }
  });
  return out;
}

std::string container_path(const std::string& host_path, const std::string& root) {
  if (root.empty() || root == "/") return host_path;
  if (host_path == root) return "/";
  if (starts_with(host_path, root) && host_path.size() > root.size() &&
      host_path[root.size()] == '/')
    return host_path.substr(root.size());
  return {};
}

model::Vma classify_vma(const SmapsEntry& entry, const std::string& root,
                        const GhostLookup& ghosts) {
  const task::MapEntry& m = entry.map;
  model::Vma v;
  v.start = m.start;
  v.end = m.end;
  v.prot = m.prot;
  v.flags = m.shared ? MAP_SHARED : MAP_PRIVATE;
  if (entry.has_flag("gd")) v.flags |= MAP_GROWSDOWN;
  v.name = m.name;
  v.offset = m.offset;

  if (m.name == "[vdso]") {
    v.kind = model::VmaKind::vdso;
    return v;
  }
  // 6.x splits the vvar area in two: [vvar] (data pages) and [vvar_vclock] (clock pages).
  if (m.name == "[vvar]" || m.name == "[vvar_vclock]") {
    v.kind = model::VmaKind::vvar;
    return v;
  }
  if (m.name == "[vsyscall]") {
    v.kind = model::VmaKind::vsyscall;
    return v;
  }
  if (entry.has_flag("ht")) throw refuse(m, "hugetlb mappings are not supported yet");
  if (entry.has_flag("um") || entry.has_flag("uw"))
    throw refuse(m, "userfaultfd-registered mappings are not supported");
  if (entry.has_flag("io") || entry.has_flag("pf"))
    throw refuse(m, "device (I/O or PFN) mappings cannot be checkpointed");

  // Named shared anonymous memory (prctl PR_SET_VMA_ANON_NAME on MAP_SHARED|MAP_ANONYMOUS).
  if (starts_with(m.name, "[anon_shmem:")) {
    v.kind = model::VmaKind::anonymous_shared;
    v.shared_id = m.inode;
    return v;
  }
  if (m.inode == 0) {
    bool known = m.name.empty() || m.name == "[heap]" || m.name == "[stack]" ||
                 starts_with(m.name, "[anon:") || starts_with(m.name, "[stack:");
    if (!known) throw refuse(m, "special mapping of unknown kind");
    if (m.shared) {
      // Not produced by current kernels (shared anon is shmem with an inode), but be explicit.
      throw refuse(m, "shared anonymous mapping without an identity");
    }
    v.kind = model::VmaKind::anonymous_private;
    return v;
  }

  // MAP_SHARED|MAP_ANONYMOUS and MAP_SHARED of /dev/zero are both backed by an unlinked shmem
  // file the kernel names "/dev/zero (deleted)"; its inode identifies the region across the
  // processes sharing it (fork), and /proc/PID/map_files gives the same file for every sharer.
  if (m.name == "/dev/zero (deleted)" && m.shared) {
    v.kind = model::VmaKind::anonymous_shared;
    v.shared_id = m.inode;
    v.path.clear();
    return v;
  }
  // MAP_PRIVATE of /dev/zero is plain anonymous memory (the VMA is made anonymous at mmap).
  // Match the suffix: with a container root the host view is "<root>/dev/zero".
  if (ends_with(m.name, "/dev/zero") && !m.shared) {
    v.kind = model::VmaKind::anonymous_private;
    return v;
  }
  if (starts_with(m.name, "/SYSV"))
    throw refuse(m, "System V shared memory is not supported yet; detach it (shmdt) first");
  if (starts_with(m.name, "/memfd:")) throw refuse(m, "memfd mappings are not supported yet");
  if (ends_with(m.name, kDeleted)) {
    uint64_t ghost = ghosts ? ghosts(m.dev_major, m.dev_minor, m.inode) : 0;
    if (ghost == 0) {
      throw refuse(m,
                   "the mapped file was deleted and no fd of the container holds it open, so its "
                   "contents cannot be saved; keep it open or unmap it before checkpointing");
    }
    v.path = container_path(m.name.substr(0, m.name.size() - kDeleted.size()), root);
    v.ghost_id = ghost;
    v.kind = m.shared ? model::VmaKind::file_shared : model::VmaKind::file_private;
    return v;
  }
  if (m.name.empty() || m.name.front() != '/') throw refuse(m, "file mapping without a path");

  v.path = container_path(m.name, root);
  if (v.path.empty())
    throw refuse(m, "the file is not reachable inside the container (root " + root + ")");
  v.kind = m.shared ? model::VmaKind::file_shared : model::VmaKind::file_private;
  return v;
}

}  // namespace ckpt::checkpoint
