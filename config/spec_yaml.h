// Reads crun-ckpt's spec.yaml into a validated ContainerSpec. Any error (unknown key, wrong
// type, bad size, address or path) throws ckpt::Error whose one line names file, line, column
// and key: "spec.yaml:7:12: resources.memory: '12XB' is not a size (use e.g. 256Mi or 1G)".
#pragma once

#include <string>

#include "config/spec.h"

namespace ckpt::config {

// `text` is the YAML document; `path` is used for messages and for the default name.
ContainerSpec parse_spec_yaml(const std::string& text, const std::string& path);
ContainerSpec load_spec_yaml(const std::string& path);

// The spec used when none is given: the counter demo on the host's root, read-only.
std::string default_spec_yaml();

}  // namespace ckpt::config
