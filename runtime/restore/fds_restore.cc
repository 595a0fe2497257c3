// The file table, the working directory and the umask. Files are opened inside the task by
// injected openat (it already lives in the container's mount namespace, so paths resolve as
// they did at dump time), moved to their number with dup3 and positioned with lseek. Fds
// marked external (stdio handed in by whoever started the restore) are kept as the stub got
// them; every other fd the stub inherited is closed first.
#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>

#include <set>

#include "common/error.h"
#include "common/parse_number.h"
#include "runtime/restore/restore_context.h"

namespace ckpt::restore {

namespace {

std::vector<int> list_fds(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/fd";
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) throw sys_error("open " + path);
  std::vector<std::string> names;
  while (dirent* ent = readdir(dir)) {
    if (ent->d_name[0] != '.') names.emplace_back(ent->d_name);
  }
  closedir(dir);
  std::vector<int> out;
  for (const auto& name : names)
    out.push_back(with_context(path, [&] { return parse_number<int>(name, "fd"); }));
  return out;
}

void restore_fd(ProcessContext& ctx, const model::Fd& fd) {
  switch (fd.kind) {
    case model::FdKind::regular:
    case model::FdKind::directory:
      break;
    case model::FdKind::tty:
      throw Error("terminals that are not external are not supported yet");
    case model::FdKind::pipe:
      throw Error("pipes are not supported yet");
    default:
      throw Error("this kind of fd is not supported");
  }
  // O_CREAT/O_TRUNC/O_EXCL were consumed by the original open; never re-apply them.
  int flags = fd.flags & ~(O_CREAT | O_TRUNC | O_EXCL | O_NOCTTY | O_CLOEXEC);
  uint64_t path = ctx.put_string(fd.path);
  int tmp = static_cast<int>(with_context(fd.path, [&] {
    return ctx.remote.check("openat", SYS_openat, static_cast<uint64_t>(AT_FDCWD), path,
                            static_cast<uint64_t>(flags | (fd.cloexec ? O_CLOEXEC : 0)), 0);
  }));
  if (tmp != fd.fd) {
    ctx.remote.check("dup3", SYS_dup3, tmp, fd.fd, fd.cloexec ? O_CLOEXEC : 0);
    ctx.remote.check("close", SYS_close, tmp);
  }
  if (fd.kind == model::FdKind::regular && fd.pos != 0 && (flags & O_APPEND) == 0) {
    ctx.remote.check("lseek", SYS_lseek, fd.fd, fd.pos, SEEK_SET);
  }
}

}  // namespace

void restore_files(ProcessContext& ctx) {
  const model::Process& p = ctx.process;
  std::set<int> keep;
  for (const model::Fd& fd : p.fds) {
    if (!fd.external.empty()) keep.insert(fd.fd);
  }
  for (int fd : list_fds(ctx.host_pid)) {
    if (keep.count(fd) == 0) ctx.remote.check("close (stub fd)", SYS_close, fd);
  }
  for (int fd : keep) {
    // The external fd must have been handed to the stub under the same number.
    if (ctx.remote.call(SYS_fcntl, fd, F_GETFD) < 0) {
      throw Error("fd " + std::to_string(fd) + " is external but the stub has no fd " +
                  std::to_string(fd))
          .with_hint("pass the container's stdio to the restore");
    }
  }
  for (const model::Fd& fd : p.fds) {
    if (!fd.external.empty()) {
      ctx.remote.check("fcntl(F_SETFD)", SYS_fcntl, fd.fd, F_SETFD, fd.cloexec ? FD_CLOEXEC : 0);
      continue;
    }
    with_context("fd " + std::to_string(fd.fd), [&] { restore_fd(ctx, fd); });
  }
  if (!p.root.empty() && p.root != "/") {
    uint64_t root = ctx.put_string(p.root);
    with_context("root " + p.root, [&] { ctx.remote.check("chroot", SYS_chroot, root); });
  }
  if (!p.cwd.empty()) {
    uint64_t cwd = ctx.put_string(p.cwd);
    with_context("cwd " + p.cwd, [&] { ctx.remote.check("chdir", SYS_chdir, cwd); });
  }
  ctx.remote.call(SYS_umask, p.umask);
}

}  // namespace ckpt::restore
