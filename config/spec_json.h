// JSON (de)serialisation of ContainerSpec, used for the state directory and for the spec that a
// checkpoint image carries. Round-trips exactly; from_json validates like the YAML reader.
#pragma once

#include <nlohmann/json.hpp>

#include "config/spec.h"

namespace ckpt::config {

nlohmann::json spec_to_json(const ContainerSpec& spec);
ContainerSpec spec_from_json(const nlohmann::json& j);

}  // namespace ckpt::config
