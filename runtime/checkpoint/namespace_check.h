// The decisions of the `namespaces` stage, from what a NamespaceProbe reads: which namespace
// state the image captures (the UTS names) and which it would lose and so must refuse (a task
// in a namespace of its own, a mount changed at run time, an IPC object). Pure given the probe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ns/uts.h"
#include "runtime/checkpoint/mount_table.h"
#include "runtime/checkpoint/namespace_probe.h"
#include "runtime/checkpoint/tree.h"

namespace ckpt::checkpoint {

struct NamespaceFindings {
  // The container's hostname and domainname at the freeze; none when it shares the runtime's
  // UTS namespace (then they are the host's, not the container's).
  std::optional<ns::UtsNames> uts;
  // One sentence per refusal, naming the task, mount or object (see namespace_check.cc).
  std::vector<std::string> problems;
};

// `tasks` is the container's tree, init first (SeizedContainer::processes()). The container's
// own namespaces are those of its init that differ from the runtime's; only their state is
// the container's to capture. `initial_mounts` is the mount table the container started with
// (recorded at run and restore); without it a container with its own mount namespace is
// refused, since changes could not be told apart.
NamespaceFindings check_namespaces(const NamespaceProbe& probe, const std::vector<TreeNode>& tasks,
                                   const std::optional<MountTable>& initial_mounts);

}  // namespace ckpt::checkpoint
