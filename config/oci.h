// Reads an OCI runtime bundle's config.json (runtime-spec 1.x) into a ContainerSpec, so that
// podman, containerd and CRI-O can drive crun-ckpt like runc. Unsupported fields that would
// change behaviour are refused with the JSON pointer of the field.
#pragma once

#include <string>

#include "config/spec.h"

namespace ckpt::config {

ContainerSpec load_oci_bundle(const std::string& bundle_dir, const std::string& container_id);

}  // namespace ckpt::config
