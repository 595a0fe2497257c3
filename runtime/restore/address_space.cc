// Replacing the stub's address space with the dumped one, from outside, by injected syscalls.
//
// Order matters: (1) map the code area in a hole of both layouts and run all further syscalls
// from it; (2) move the kernel's vdso/vvar blocks to the dumped addresses with mremap, which
// must be done by the task itself (special_mapping_mremap checks current->mm) and moves the
// kernel's notion of the vdso along (vdso_mremap); ARCH_MAP_VDSO_64 is no alternative while a
// vdso is mapped. They go through a temporary spot first because the stub's and the dumped
// blocks may overlap. (3) unmap everything else of the stub; (4) map each dumped VMA at its
// address and fill its pages (writable while filling, final protection after).
#include <fcntl.h>
#include <linux/rseq.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "common/error.h"
#include "common/format.h"
#include "runtime/restore/fd_channel.h"
#include "runtime/restore/file_table.h"
#include "runtime/restore/layout.h"
#include "runtime/restore/restore_context.h"
#include "runtime/task/maps.h"
#include "runtime/task/registers.h"

namespace ckpt::restore {

namespace {

using model::Vma;
using model::VmaKind;

constexpr uint64_t kFloor = 0x10000000;        // keep clear of low, non-PIE program images
constexpr uint64_t kCeiling = 0x7ffffffff000;  // 47-bit user address space

bool is_special(VmaKind kind) {
  return kind == VmaKind::vdso || kind == VmaKind::vvar || kind == VmaKind::vsyscall;
}

std::string describe(const Vma& v) {
  return "VMA " + hex(v.start) + "-" + hex(v.end) + (v.name.empty() ? "" : " " + v.name);
}

std::vector<Range> busy_ranges(const model::Process& p, const std::vector<task::MapEntry>& now) {
  std::vector<Range> busy;
  for (const Vma& v : p.vmas) busy.push_back({v.start, v.end});
  for (const task::MapEntry& m : now) busy.push_back({m.start, m.end});
  return busy;
}

void move_specials(ProcessContext& ctx, const std::vector<task::MapEntry>& now, uint64_t temp) {
  std::vector<NamedRange> stub, dumped;
  for (const task::MapEntry& m : now) {
    if (m.name == "[vdso]" || m.name.rfind("[vvar", 0) == 0) {
      stub.push_back({m.name, {m.start, m.end}});
    }
  }
  for (const Vma& v : ctx.process.vmas) {
    if (v.kind == VmaKind::vdso || v.kind == VmaKind::vvar)
      dumped.push_back({v.name, {v.start, v.end}});
  }
  std::vector<SpecialMove> moves = plan_special_moves(stub, dumped);
  std::vector<uint64_t> parked;
  for (const SpecialMove& m : moves) {
    uint64_t size = m.from.end - m.from.start;
    ctx.remote.check("mremap (park vdso)", SYS_mremap, m.from.start, size, size,
                     MREMAP_MAYMOVE | MREMAP_FIXED, temp);
    parked.push_back(temp);
    temp += size;
  }
  for (size_t i = 0; i < moves.size(); ++i) {
    uint64_t size = moves[i].from.end - moves[i].from.start;
    with_context(moves[i].name, [&] {
      ctx.remote.check("mremap", SYS_mremap, parked[i], size, size, MREMAP_MAYMOVE | MREMAP_FIXED,
                       moves[i].to);
    });
  }
}

// The stub inherited its parent's rseq registration (rseq survives fork). The kernel writes
// the registered area on every return to user space after a preemption, so it must be
// unregistered while that area is still mapped, or the task would fault.
void unregister_stub_rseq(ProcessContext& ctx) {
  task::RseqConfig rseq = task::get_rseq(ctx.host_pid);
  if (rseq.addr == 0) return;
  ctx.remote.check("rseq (unregister the stub's)", SYS_rseq, rseq.addr, rseq.len,
                   RSEQ_FLAG_UNREGISTER, rseq.signature);
}

void unmap_stub(ProcessContext& ctx) {
  std::vector<Range> keep = {{ctx.code_area, ctx.code_area + ctx.code_area_size()}};
  for (const Vma& v : ctx.process.vmas) {
    if (is_special(v.kind)) keep.push_back({v.start, v.end});
  }
  for (const task::MapEntry& m : task::read_maps(ctx.host_pid)) {
    if (m.name == "[vsyscall]") continue;
    bool kept = std::any_of(keep.begin(), keep.end(),
                            [&](const Range& k) { return m.start >= k.start && m.end <= k.end; });
    if (kept) continue;
    ctx.remote.check("munmap (stub mapping)", SYS_munmap, m.start, m.end - m.start);
  }
}

// Opens `path` inside the task (it already sees the container's mounts) and returns the fd.
int remote_open(ProcessContext& ctx, const std::string& path, int flags) {
  uint64_t addr = ctx.put_string(path);
  return static_cast<int>(with_context(path, [&] {
    return ctx.remote.check("openat", SYS_openat, static_cast<uint64_t>(AT_FDCWD), addr,
                            static_cast<uint64_t>(flags | O_CLOEXEC), 0);
  }));
}

void map_vma(ProcessContext& ctx, const Vma& v, std::map<std::string, int>& files) {
  int prot = v.prot | (v.runs.empty() ? 0 : PROT_WRITE);
  int flags = MAP_FIXED | (v.flags & (MAP_SHARED | MAP_PRIVATE | MAP_GROWSDOWN));
  if ((flags & (MAP_SHARED | MAP_PRIVATE)) == 0) flags |= MAP_PRIVATE;
  int64_t fd = -1;
  uint64_t offset = 0;
  switch (v.kind) {
    case VmaKind::anonymous_private:
      flags |= MAP_ANONYMOUS;
      flags = (flags & ~MAP_SHARED) | MAP_PRIVATE;
      break;
    case VmaKind::anonymous_shared: {
      // The object was created and filled by the restorer before the stubs existed; the stub
      // inherited its fd (shared_memory.h). Its pages are already in place: no fill here.
      if (ctx.shared_memory_fds == nullptr || ctx.shared_memory_fds->count(v.shared_id) == 0) {
        throw Error("shared anonymous object " + std::to_string(v.shared_id) +
                        " was not created for this restore",
                    0, "create it with restore::SharedMemoryObjects before launching the stubs");
      }
      fd = ctx.shared_memory_fds->at(v.shared_id);
      offset = v.offset;
      flags = (flags & ~(MAP_PRIVATE | MAP_GROWSDOWN)) | MAP_SHARED;
      break;
    }
    case VmaKind::file_private:
    case VmaKind::file_shared: {
      bool shared_write = v.kind == VmaKind::file_shared && (v.prot & PROT_WRITE);
      if (v.ghost_id != 0) {
        // A deleted file: the restorer recreated it (file_table.h) and hands an fd of it over;
        // the mapping keeps the file, the fd is closed right after.
        fd = ctx.channel->send(ctx.files->ghost_fd(v.ghost_id, shared_write));
        offset = v.offset;
        if (v.kind == VmaKind::file_private) flags = (flags & ~MAP_SHARED) | MAP_PRIVATE;
        long got = ctx.remote.check("mmap", SYS_mmap, v.start, v.end - v.start,
                                    static_cast<uint64_t>(prot), static_cast<uint64_t>(flags),
                                    static_cast<uint64_t>(fd), offset);
        ctx.remote.check("close", SYS_close, fd);
        if (static_cast<uint64_t>(got) != v.start)
          throw Error("mmap placed the VMA at " + hex(got) + " instead of " + hex(v.start));
        return;
      }
      std::string key = v.path + (shared_write ? "\nrw" : "\nro");
      auto it = files.find(key);
      if (it == files.end()) {
        it = files.emplace(key, remote_open(ctx, v.path, shared_write ? O_RDWR : O_RDONLY)).first;
      }
      fd = it->second;
      offset = v.offset;
      if (v.kind == VmaKind::file_private) flags = (flags & ~MAP_SHARED) | MAP_PRIVATE;
      break;
    }
    default:
      return;
  }
  long got =
      ctx.remote.check("mmap", SYS_mmap, v.start, v.end - v.start, static_cast<uint64_t>(prot),
                       static_cast<uint64_t>(flags), static_cast<uint64_t>(fd), offset);
  if (static_cast<uint64_t>(got) != v.start) {
    throw Error("mmap placed the VMA at " + hex(got) + " instead of " + hex(v.start));
  }
}

}  // namespace

uint64_t ProcessContext::put(const void* data, size_t len, size_t offset) {
  if (offset + len > scratch_size()) {
    throw Error(who() + ": " + std::to_string(len) + " bytes do not fit the scratch page");
  }
  memory.write(scratch() + offset, data, len);
  return scratch() + offset;
}

uint64_t ProcessContext::put_string(const std::string& text, size_t offset) {
  return put(text.c_str(), text.size() + 1, offset);
}

void install_code_area(ProcessContext& ctx) {
  std::vector<task::MapEntry> now = task::read_maps(ctx.host_pid);
  // One hole holds the code area and, right after it, the parking spot for vdso/vvar.
  uint64_t specials = 0;
  for (const task::MapEntry& m : now) {
    if (m.name == "[vdso]" || m.name.rfind("[vvar", 0) == 0) specials += m.size();
  }
  uint64_t size = ctx.code_area_size() + specials;
  uint64_t addr = find_hole(busy_ranges(ctx.process, now), size, kFloor, kCeiling);
  long got = ctx.remote.check(
      "mmap (code area)", SYS_mmap, addr, ctx.code_area_size(), PROT_READ | PROT_WRITE,
      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, static_cast<uint64_t>(-1), 0);
  if (static_cast<uint64_t>(got) != addr) throw Error("code area mapped at the wrong address");
  // `syscall; jmp .`: injected calls stop at syscall exit and never run the jump, but a thread
  // created by an injected clone3 starts right after the syscall and must wait there, spinning,
  // until we seize it (threads_restore.cc).
  const unsigned char syscall_insn[] = {0x0f, 0x05, 0xeb, 0xfe};
  ctx.memory.write(addr, syscall_insn, sizeof(syscall_insn));
  ctx.remote.check("mprotect (code page)", SYS_mprotect, addr, kCodePages * kPageSize,
                   PROT_READ | PROT_EXEC);
  ctx.remote.set_syscall_address(addr);
  ctx.code_area = addr;
}

void replace_address_space(ProcessContext& ctx) {
  unregister_stub_rseq(ctx);
  std::vector<task::MapEntry> now = task::read_maps(ctx.host_pid);
  with_context("vdso", [&] { move_specials(ctx, now, ctx.code_area + ctx.code_area_size()); });
  unmap_stub(ctx);

  std::vector<const Vma*> vmas;
  for (const Vma& v : ctx.process.vmas) {
    if (!is_special(v.kind)) vmas.push_back(&v);
  }
  std::sort(vmas.begin(), vmas.end(),
            [](const Vma* a, const Vma* b) { return a->start < b->start; });
  std::map<std::string, int> files;
  for (const Vma* v : vmas) with_context(describe(*v), [&] { map_vma(ctx, *v, files); });
  for (const auto& [key, fd] : files) ctx.remote.check("close", SYS_close, fd);
  fill_pages(ctx, vmas);
  for (const Vma* v : vmas) {
    if (v->runs.empty()) continue;
    with_context(describe(*v), [&] {
      ctx.remote.check("mprotect", SYS_mprotect, v->start, v->end - v->start,
                       static_cast<uint64_t>(v->prot));
    });
  }
}

}  // namespace ckpt::restore
