// A task's user-namespace id maps as /proc shows them to the caller (common/id_map.h for the
// maps themselves). The tmpfs archive stores owners as the container sees them and the restore
// turns them back into host ids with these.
#pragma once

#include <sys/types.h>

#include "common/id_map.h"

namespace ckpt::task {

using ckpt::IdMap;
using ckpt::IdRange;

// Reads /proc/PID/uid_map or gid_map; errors name the file and line.
IdMap read_uid_map(pid_t pid);
IdMap read_gid_map(pid_t pid);

}  // namespace ckpt::task
