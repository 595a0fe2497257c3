// Turns the kernel's view of one mapping (/proc/PID/smaps) into a model::Vma of the right kind,
// or refuses it with the reason. Pure functions over text, unit-tested with fixtures; the pages
// of a VMA are found later (pagemap.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "runtime/model/task_model.h"
#include "runtime/task/maps.h"

namespace ckpt::checkpoint {

struct SmapsEntry {
  task::MapEntry map;
  std::vector<std::string> vm_flags;  // two-letter codes from "VmFlags:" (proc(5))
  bool has_flag(const char* code) const;
};

// Parses the whole text of /proc/PID/smaps; throws naming the bad line.
std::vector<SmapsEntry> parse_smaps(const std::string& text);

// Maps a path as the dumper sees it (host view) to the path inside the container, whose root is
// `root` in the host view ("/" when the container shares our root). Empty when the path is not
// below the container's root (not reachable from inside).
std::string container_path(const std::string& host_path, const std::string& root);

// The deleted file (GhostFile id) an fd of the container holds open on the inode a mapping
// names (device major:minor, inode as /proc/PID/maps shows them), or 0.
using GhostLookup = std::function<uint64_t(unsigned dev_major, unsigned dev_minor, uint64_t ino)>;

// Classifies one mapping. Throws ckpt::Error whose message says what the mapping is and why it
// cannot be dumped (the caller prefixes the task); runs are left empty. A mapping of a deleted
// file is captured only when `ghosts` finds the file held open (its contents are then in the
// image anyway): it maps that ghost again at restore.
model::Vma classify_vma(const SmapsEntry& entry, const std::string& root,
                        const GhostLookup& ghosts = {});

}  // namespace ckpt::checkpoint
