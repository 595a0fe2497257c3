#include "ns/namespaces.h"

#include <sched.h>

namespace ckpt::ns {

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

uint64_t clone_flags(const config::ContainerSpec& spec) {
  using config::Namespace;
  uint64_t flags = 0;
  for (Namespace ns : spec.namespaces) {
    switch (ns) {
      case Namespace::pid: flags |= CLONE_NEWPID; break;
      case Namespace::mount: flags |= CLONE_NEWNS; break;
      case Namespace::net: flags |= CLONE_NEWNET; break;
      case Namespace::uts: flags |= CLONE_NEWUTS; break;
      case Namespace::ipc: flags |= CLONE_NEWIPC; break;
      case Namespace::time: flags |= CLONE_NEWTIME; break;
      case Namespace::user: flags |= CLONE_NEWUSER; break;
      case Namespace::cgroup: flags |= CLONE_NEWCGROUP; break;
    }
  }
  return flags;
}

}  // namespace ckpt::ns
