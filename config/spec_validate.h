// The checks every reader of a ContainerSpec shares (spec.yaml, the JSON form, an OCI bundle):
// defaults that depend on other fields, and rules that span fields (duplicates, a gateway
// inside its subnet, mappings only with a user namespace, soft <= hard). Readers convert text
// to typed values first, then call finish_spec(). Pure logic, no syscalls.
#pragma once

#include <functional>
#include <string>

#include "config/spec.h"

namespace ckpt::config {

// Maps a spec key ("resources.memory", "mounts[1].destination", "rlimits.nofile") to the
// prefix of an error line: "web.yaml:12:13: resources.memory" for YAML, a JSON pointer for an
// OCI bundle. Keys that were not written in the input map to their nearest written parent.
using KeyLocator = std::function<std::string(const std::string& key)>;

// Fills the derived defaults, then validates; throws ckpt::Error whose context is where(key).
// Defaults: hostname = name; an interface without mac gets 02:00:<its 4 address bytes>; with
// the user namespace, empty uid_mappings / gid_mappings become {0 -> 100000, size 65536} (the
// conventional first subordinate range of /etc/subuid). Idempotent: a finished spec passes
// again unchanged, so the JSON form can be re-validated when read back.
void finish_spec(ContainerSpec& spec, const KeyLocator& where);

}  // namespace ckpt::config
