// Looking into another process's namespace from the runtime: some state is only visible from
// inside its namespace (uname(2) shows the caller's UTS names, /proc/sysvipc/* and the mqueue
// file system the caller's IPC namespace), so it is read by a short-lived thread of ours that
// has entered that namespace alone.
#pragma once

#include <sys/types.h>

#include <functional>

namespace ckpt::ns {

// Runs `fn` on a new thread that first joins namespace `nstype` (CLONE_NEWUTS, CLONE_NEWIPC or
// CLONE_NEWNET) of process `pid` with setns(2), and waits for it. Namespaces are per thread
// (task_struct.nsproxy), so the rest of this process is not moved; the thread, and its hold on
// the namespace, end with `fn`. Mount and user namespaces cannot be entered this way (setns(2)
// refuses them in a multi-threaded process) and are rejected. An exception thrown by `fn` is
// rethrown here.
void in_namespace_of(pid_t pid, int nstype, const std::function<void()>& fn);

}  // namespace ckpt::ns
