// Extension module envpool._robotics: Fetch and HandReach on MuJoCo (ENVPOOL_MUJOCO_VERSION, the
// mujoco-core pin of tools/release/release_set.py, defined by CMakeLists.txt from pins.json).
// libmujoco is not bundled: envpool.robotics_loader loads it from the installed mujoco-core
// distribution (RTLD_GLOBAL) before this module is imported.
#include <mujoco/mujoco.h>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "../engine/bindings.h"
#include "fetch.h"
#include "hand_reach.h"

namespace envpool::robotics {
namespace {

bool Dense(const Config& config) {
  std::string reward = config.String("reward_type", "sparse");
  if (reward != "sparse" && reward != "dense")
    throw std::invalid_argument("reward_type must be 'sparse' or 'dense', got '" + reward + "'");
  return reward == "dense";
}

// The model file: task parameter "model", below option asset_root.
std::string ModelFile(const Config& config) {
  std::string root = config.String("asset_root", "");
  if (root.empty()) throw std::invalid_argument("the robotics family needs option 'asset_root' (the asset directory)");
  const std::string rel = config.Param<std::string>("model");
  if (rel.empty() || rel.size() > 4096 || rel.find('\0') != std::string::npos)
    throw std::invalid_argument("task parameter 'model' must be a file path below asset_root");
  return root + "/" + rel;
}

// The robots, by the task parameter "robot" (envpool/tasks.py names one per task, with the Fetch
// parameters of each Fetch task).
enum class Robot { kFetch, kHand };

Robot RobotOf(const Config& config) {
  static const std::map<std::string, Robot> robots = {{"fetch", Robot::kFetch}, {"hand", Robot::kHand}};
  return Lookup(robots, "robotics robot", config.Param<std::string>("robot"));
}

EnvSpec SpecOf(const std::string&, const Config& config) {
  const Robot robot = RobotOf(config);
  Dense(config);
  return robot == Robot::kFetch ? FetchEnv::Spec(ReadFetch(config).has_object) : HandReachEnv::Spec();
}

std::unique_ptr<Env> MakeEnv(const std::string&, const Config& config) {
  const Robot robot = RobotOf(config);
  const bool dense = Dense(config);
  const std::string file = ModelFile(config);
  if (robot == Robot::kFetch) {
    const FetchParams params = ReadFetch(config);
    auto shared = Cached<FetchShared>(FetchKey(file, params), [&] { return LoadFetch(file, params); });
    return std::make_unique<FetchEnv>(shared, dense);
  }
  auto shared = Cached<HandShared>("hand\n" + file, [&] { return LoadHand(file); });
  return std::make_unique<HandReachEnv>(shared, dense);
}

}  // namespace
}  // namespace envpool::robotics

NB_MODULE(_robotics, m) {
  namespace nb = nanobind;
  if (mj_version() != mjVERSION_HEADER)
    throw nb::import_error(("envpool._robotics was built against MuJoCo " + std::to_string(mjVERSION_HEADER) +
                            " but the loaded libmujoco is " + mj_versionString() +
                            "; reinstall with: pip install \"envpool[robotics]\" at matching versions")
                               .c_str());
  // mju_error would otherwise exit() the process; make it an exception (a Python RuntimeError).
  if (mju_user_error == nullptr) mju_user_error = &envpool::robotics::ThrowOnMujocoError;
  if (mju_user_warning == nullptr) mju_user_warning = &envpool::robotics::IgnoreMujocoWarning;
  m.doc() = "envpool robotics family (Fetch, HandReach) on MuJoCo " ENVPOOL_MUJOCO_VERSION;
  m.attr("mujoco_version") = mj_versionString();
  envpool::BindFamily(m, envpool::Family{&envpool::robotics::SpecOf, &envpool::robotics::MakeEnv});
}
