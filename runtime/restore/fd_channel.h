// Puts the restorer's open file descriptions into a stub (file_table.h makes them). No syscall
// gives a process an fd of another's, so the stub receives each one: a SOCK_DGRAM socketpair
// is made inside the stub by an injected socketpair(2), the restorer takes one end out with
// pidfd_getfd(2) (it is the stub's tracer), and then for each description it sends the fd with
// SCM_RIGHTS (unix(7)) and injects the recvmsg(2) that makes it the stub's. The stub's end sits
// above every number of the dumped fd table, so installing never has to move it.
//
// Any kind of description travels this way (pipes and sockets made in pairs by the restorer
// included), and only this stub can receive on its channel.
#pragma once

#include "common/unique_fd.h"

namespace ckpt::restore {

struct ProcessContext;

class FdChannel {
 public:
  // `above`: the highest fd number the stub must end with. The stub must be stopped with its
  // code area installed (the calls use the scratch area).
  FdChannel(ProcessContext& ctx, int above);
  FdChannel(const FdChannel&) = delete;
  FdChannel& operator=(const FdChannel&) = delete;
  // Closes our end; the stub's end is closed by close_remote() or dies with a failed stub.
  ~FdChannel() = default;

  // Sends `local` (an fd of ours) into the stub; returns its number there: the lowest free one,
  // close-on-exec. Our `local` stays open.
  int send(int local);
  // Closes the stub's end; send() cannot be used after this.
  void close_remote();
  // The stub's end, while open (-1 after close_remote()).
  int remote_fd() const { return remote_; }

 private:
  ProcessContext& ctx_;
  UniqueFd local_;
  int remote_ = -1;
};

}  // namespace ckpt::restore
