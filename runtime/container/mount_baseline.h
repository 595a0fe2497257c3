// The mount table a container started with, kept beside its state as ROOT/<id>/mounts.json so
// that a checkpoint can tell what the workload changed at run time (checkpoint/mount_table.h).
// Written at run and at restore from the table the container's first process saw just before
// it exec'd the workload (or became the restore stub), so no workload code ran before it.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "runtime/checkpoint/mount_table.h"

namespace ckpt::runtime {

// {"mounts": [{"mount_point", "root", "fs_type", "source", "mount_options", "super_options",
//              "propagation"}, ...]}
nlohmann::json mount_table_to_json(const checkpoint::MountTable& table);
// Throws naming the key when the JSON is not such a table.
checkpoint::MountTable mount_table_from_json(const nlohmann::json& j);

// Parses `mountinfo` (the text of /proc/PID/mountinfo) and writes it to `state_dir`/mounts.json.
void save_initial_mounts(const std::string& state_dir, const std::string& mountinfo);
// The recorded table; none when the file does not exist (a container started by an older
// crun-ckpt). A damaged file is an error naming it.
std::optional<checkpoint::MountTable> load_initial_mounts(const std::string& state_dir);

}  // namespace ckpt::runtime
