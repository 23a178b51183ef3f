// The DoomNav scenarios: navigation on ViZDoom's scenario maps and Freedoom2 MAP01, stepped by our own
// engine (engine.h). See docs/vizdoom.md for what follows the ViZDoom scenarios and what differs.
#pragma once

#include <memory>
#include <string>

#include "../engine/env.h"

namespace envpool::vizdoom {

// The config names the scenario, its files and map (task parameters from envpool/tasks.py) and
// carries the options; `task_id` is not used (the Family interface passes it for messages).
EnvSpec TaskSpec(const std::string& task_id, const Config& config);
std::unique_ptr<Env> MakeTask(const std::string& task_id, const Config& config);

}  // namespace envpool::vizdoom
