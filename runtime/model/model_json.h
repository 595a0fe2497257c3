// JSON form of the data model (nlohmann), round-trip exact. Binary strings (siginfo) are hex.
#pragma once

#include <nlohmann/json.hpp>

#include "runtime/model/task_model.h"

namespace ckpt::model {

nlohmann::json to_json(const Checkpoint& checkpoint);
Checkpoint checkpoint_from_json(const nlohmann::json& j);

}  // namespace ckpt::model
