#include "runtime/restore/fd_channel.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>

#include "common/error.h"
#include "runtime/restore/restore_context.h"

namespace ckpt::restore {

namespace {

// The recvmsg arguments as they lie in the stub's scratch area.
struct RemoteRecv {
  msghdr msg;
  iovec iov;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  char byte;
};

// The stub's RLIMIT_NOFILE must admit fd `fd` (F_DUPFD and dup3 fail beyond it). The stub
// inherited the restorer's limit, which may be below what the dumped process had; raising the
// soft limit up to the hard one needs no privilege, and the dumped limits replace it later
// (process_state_restore.cc runs after the files).
void make_room_for(ProcessContext& ctx, int fd) {
  rlimit64 lim{};
  uint64_t addr = ctx.scratch();
  ctx.remote.check("prlimit64(RLIMIT_NOFILE)", SYS_prlimit64, 0, RLIMIT_NOFILE, 0, addr);
  ctx.memory.read(addr, &lim, sizeof lim);
  if (lim.rlim_cur > static_cast<uint64_t>(fd)) return;
  if (lim.rlim_max <= static_cast<uint64_t>(fd)) {
    throw Error("fd " + std::to_string(fd) + " is beyond the restore's RLIMIT_NOFILE hard limit " +
                    std::to_string(lim.rlim_max),
                0, "raise the hard limit of open files (ulimit -Hn) for the restore");
  }
  lim.rlim_cur = lim.rlim_max;
  ctx.put(&lim, sizeof lim);
  ctx.remote.check("prlimit64(RLIMIT_NOFILE)", SYS_prlimit64, 0, RLIMIT_NOFILE, addr, 0);
}

}  // namespace

FdChannel::FdChannel(ProcessContext& ctx, int above) : ctx_(ctx) {
  uint64_t addr = ctx.scratch();
  ctx.remote.check("socketpair (fd channel)", SYS_socketpair, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0,
                   addr);
  int ends[2];
  ctx.memory.read(addr, ends, sizeof ends);

  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, ctx.host_pid, 0)));
  if (!pidfd) throw sys_error("pidfd_open " + std::to_string(ctx.host_pid));
  long ours = ::syscall(SYS_pidfd_getfd, pidfd.get(), ends[0], 0);
  if (ours < 0) throw sys_error("pidfd_getfd of the fd channel");
  local_.reset(static_cast<int>(ours));
  ctx.remote.check("close (fd channel)", SYS_close, ends[0]);

  make_room_for(ctx, above + 1);
  remote_ = static_cast<int>(ctx.remote.check("fcntl(F_DUPFD_CLOEXEC) (fd channel)", SYS_fcntl,
                                              ends[1], F_DUPFD_CLOEXEC, above + 1));
  ctx.remote.check("close (fd channel)", SYS_close, ends[1]);
}

int FdChannel::send(int local) {
  if (remote_ < 0) throw Error("the fd channel is closed");
  char byte = 'f';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &local, sizeof local);
  if (::sendmsg(local_.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT) != 1)
    throw sys_error("send an fd over the fd channel");

  // The same arguments for the stub, pointing into its scratch area.
  uint64_t base = ctx_.scratch();
  RemoteRecv r{};
  r.iov.iov_base = reinterpret_cast<void*>(base + offsetof(RemoteRecv, byte));
  r.iov.iov_len = 1;
  r.msg.msg_iov = reinterpret_cast<iovec*>(base + offsetof(RemoteRecv, iov));
  r.msg.msg_iovlen = 1;
  r.msg.msg_control = reinterpret_cast<void*>(base + offsetof(RemoteRecv, control));
  r.msg.msg_controllen = sizeof r.control;
  ctx_.put(&r, sizeof r);
  // MSG_DONTWAIT: the datagram is already queued; if it were not, fail instead of hanging.
  ctx_.remote.check("recvmsg (fd channel)", SYS_recvmsg, remote_, base + offsetof(RemoteRecv, msg),
                    MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  ctx_.memory.read(base, &r, sizeof r);
  if (r.msg.msg_flags & MSG_CTRUNC) throw Error("the fd sent to the stub was cut off (MSG_CTRUNC)");
  r.msg.msg_control = r.control;  // parse our copy
  cmsghdr* got = CMSG_FIRSTHDR(&r.msg);
  if (got == nullptr || got->cmsg_level != SOL_SOCKET || got->cmsg_type != SCM_RIGHTS ||
      got->cmsg_len != CMSG_LEN(sizeof(int))) {
    throw Error("the stub received no fd over the fd channel");
  }
  int fd = -1;
  std::memcpy(&fd, CMSG_DATA(got), sizeof fd);
  return fd;
}

void FdChannel::close_remote() {
  if (remote_ < 0) return;
  ctx_.remote.check("close (fd channel)", SYS_close, remote_);
  remote_ = -1;
}

}  // namespace ckpt::restore
