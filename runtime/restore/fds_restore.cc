// The file table, the working directory and the umask. Every fd the stub inherited is closed
// but the fd channel; then each dumped fd gets its open file description, made once by the
// restorer for all its holders (file_table.h), through the channel (fd_channel.h), and is
// moved to its number with dup3, which also sets its own close-on-exec bit. The stub is still
// root here: the descriptions were opened with the restorer's credentials anyway, and the
// dumped credentials come last (credentials_restore.cc).
#include <fcntl.h>
#include <sys/syscall.h>

#include <algorithm>

#include "common/error.h"
#include "runtime/restore/fd_channel.h"
#include "runtime/restore/file_table.h"
#include "runtime/restore/restore_context.h"
#include "runtime/task/proc.h"

namespace ckpt::restore {

namespace {

void install_fd(ProcessContext& ctx, const model::Fd& fd) {
  // The received fd takes the lowest free number: never one installed already, at most the
  // target itself.
  int got = ctx.channel->send(ctx.files->fd(fd.file));
  if (got == fd.fd) {
    ctx.remote.check("fcntl(F_SETFD)", SYS_fcntl, fd.fd, F_SETFD, fd.cloexec ? FD_CLOEXEC : 0);
    return;
  }
  ctx.remote.check("dup3", SYS_dup3, got, fd.fd, fd.cloexec ? O_CLOEXEC : 0);
  ctx.remote.check("close", SYS_close, got);
}

}  // namespace

int highest_fd(const model::Process& p) {
  int top = -1;
  for (const model::Fd& fd : p.fds) top = std::max(top, fd.fd);
  return top;
}

void restore_files(ProcessContext& ctx) {
  const model::Process& p = ctx.process;
  for (int fd : task::list_fds(ctx.host_pid)) {
    if (fd != ctx.channel->remote_fd()) ctx.remote.check("close (stub fd)", SYS_close, fd);
  }
  for (const model::Fd& fd : p.fds) {
    with_context("fd " + std::to_string(fd.fd) + " (open file " + std::to_string(fd.file) + ")",
                 [&] { install_fd(ctx, fd); });
  }
  ctx.channel->close_remote();
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
