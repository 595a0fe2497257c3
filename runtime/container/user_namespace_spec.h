// The user namespace a container's spec creates, as the image model describes one, so that a
// checkpoint can refuse, before the original is stopped, an image whose spec would not
// recreate the namespace its processes ran in (the restore builds the container from that
// spec and then requires the dumped maps and setgroups mode: restore/user_namespace_check.cc).
#pragma once

#include <optional>

#include "config/spec.h"
#include "runtime/model/task_model.h"

namespace ckpt::runtime {

// Pure: none without Namespace::user; else the spec's mappings (host ids as outside ids, the
// launcher's and the dumper's view) and the setgroups mode the launcher writes.
std::optional<model::UserNamespace> user_namespace_of(const config::ContainerSpec& spec);

// Throws one "cannot checkpoint: ..." line when `dumped` is not what `spec` creates.
void check_spec_recreates_user_namespace(const config::ContainerSpec& spec,
                                         const std::optional<model::UserNamespace>& dumped);

}  // namespace ckpt::runtime
