// The mm fields the kernel keeps about an address space (code/data/brk/stack bounds, the
// argv/env area /proc/PID/cmdline reads, the saved auxv, /proc/PID/exe) in one
// prctl(PR_SET_MM, PR_SET_MM_MAP) call. Setting exe_fd needs CAP_SYS_ADMIN or
// CAP_CHECKPOINT_RESTORE in the caller's own user namespace (kernel/sys.c prctl_set_mm_map,
// checkpoint_restore_ns_capable; the other fields need none, verified on 6.18), so the stub,
// root of a container's user namespace, may do it. Replacing exe_file is refused while the old
// executable is still mapped, so this runs after the stub's mappings are gone.
#include <fcntl.h>
#include <linux/prctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "common/error.h"
#include "runtime/restore/restore_context.h"

namespace ckpt::restore {

void restore_mm(ProcessContext& ctx) {
  const model::MmState& mm = ctx.process.mm;
  int exe_fd = -1;
  if (!mm.exe_path.empty()) {
    uint64_t path = ctx.put_string(mm.exe_path);
    exe_fd = static_cast<int>(with_context("exe " + mm.exe_path, [&] {
      return ctx.remote.check("openat", SYS_openat, static_cast<uint64_t>(AT_FDCWD), path,
                              O_RDONLY | O_CLOEXEC, 0);
    }));
  }
  prctl_mm_map map{};
  map.start_code = mm.start_code;
  map.end_code = mm.end_code;
  map.start_data = mm.start_data;
  map.end_data = mm.end_data;
  map.start_brk = mm.start_brk;
  map.brk = mm.brk;
  map.start_stack = mm.start_stack;
  map.arg_start = mm.arg_start;
  map.arg_end = mm.arg_end;
  map.env_start = mm.env_start;
  map.env_end = mm.env_end;
  map.exe_fd = static_cast<uint32_t>(exe_fd);
  size_t auxv_bytes = mm.auxv.size() * sizeof(uint64_t);
  uint64_t auxv_addr = 0;
  if (auxv_bytes > 0) auxv_addr = ctx.put(mm.auxv.data(), auxv_bytes, 1024);
  map.auxv = reinterpret_cast<__u64*>(auxv_addr);
  map.auxv_size = static_cast<uint32_t>(auxv_bytes);
  uint64_t map_addr = ctx.put(&map, sizeof(map), 0);
  long r = ctx.remote.call(SYS_prctl, PR_SET_MM, PR_SET_MM_MAP, map_addr, sizeof(map), 0);
  if (r < 0) {
    Error e("remote prctl(PR_SET_MM_MAP) in task " + std::to_string(ctx.host_pid),
            static_cast<int>(-r));
    if (r == -EPERM) e.with_hint("needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE");
    if (r == -EINVAL) e.with_hint("the image's mm fields do not fit its VMAs or rlimits");
    if (r == -EBUSY) e.with_hint("the stub's executable is still mapped");
    throw e;
  }
  if (exe_fd >= 0) ctx.remote.check("close", SYS_close, exe_fd);
}

}  // namespace ckpt::restore
