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

const std::map<std::string, FetchParams>& FetchTasks() {
  static const std::map<std::string, FetchParams> tasks = {
      {"FetchReach",
       FetchParams{"fetch/reach.xml", false, true, 0.2, true, {0.0, 0.0, 0.0}, 0.15, 0.15, 0.05,
                   {{"robot0:slide0", {0.4049}}, {"robot0:slide1", {0.48}}, {"robot0:slide2", {0.0}}}}},
      {"FetchPush",
       FetchParams{"fetch/push.xml", true, true, 0.0, false, {0.0, 0.0, 0.0}, 0.15, 0.15, 0.05,
                   {{"robot0:slide0", {0.405}},
                    {"robot0:slide1", {0.48}},
                    {"robot0:slide2", {0.0}},
                    {"object0:joint", {1.25, 0.53, 0.4, 1.0, 0.0, 0.0, 0.0}}}}},
      {"FetchSlide",
       FetchParams{"fetch/slide.xml", true, true, -0.02, false, {0.4, 0.0, 0.0}, 0.1, 0.3, 0.05,
                   {{"robot0:slide0", {0.05}},
                    {"robot0:slide1", {0.48}},
                    {"robot0:slide2", {0.0}},
                    {"object0:joint", {1.7, 1.1, 0.41, 1.0, 0.0, 0.0, 0.0}}}}},
      {"FetchPickAndPlace",
       FetchParams{"fetch/pick_and_place.xml", true, false, 0.2, true, {0.0, 0.0, 0.0}, 0.15, 0.15, 0.05,
                   {{"robot0:slide0", {0.405}},
                    {"robot0:slide1", {0.48}},
                    {"robot0:slide2", {0.0}},
                    {"object0:joint", {1.25, 0.53, 0.4, 1.0, 0.0, 0.0, 0.0}}}}},
  };
  return tasks;
}

struct Parsed {
  std::string base;  // "FetchReach", ..., "HandReach"
  const FetchParams* fetch = nullptr;
};

Parsed Parse(const std::string& task_id) {
  auto strip = [&](const std::string& suffix) -> std::string {
    if (task_id.size() <= suffix.size() || task_id.compare(task_id.size() - suffix.size(), suffix.size(), suffix) != 0)
      return "";
    std::string base = task_id.substr(0, task_id.size() - suffix.size());
    const std::string dense = "Dense";
    if (base.size() > dense.size() && base.compare(base.size() - dense.size(), dense.size(), dense) == 0)
      base.resize(base.size() - dense.size());
    return base;
  };
  Parsed p;
  std::string base = strip("-v4");
  auto it = FetchTasks().find(base);
  if (it != FetchTasks().end()) {
    p.base = base;
    p.fetch = &it->second;
    return p;
  }
  if (strip("-v3") == "HandReach") {
    p.base = "HandReach";
    return p;
  }
  throw std::invalid_argument("the robotics family has no task '" + task_id + "'");
}

bool Dense(const Config& config) {
  std::string reward = config.String("reward_type", "sparse");
  if (reward != "sparse" && reward != "dense")
    throw std::invalid_argument("reward_type must be 'sparse' or 'dense', got '" + reward + "'");
  return reward == "dense";
}

std::string ModelFile(const Config& config, const char* relpath) {
  std::string root = config.String("asset_root", "");
  if (root.empty()) throw std::invalid_argument("the robotics family needs option 'asset_root' (the asset directory)");
  return root + "/" + relpath;
}

EnvSpec SpecOf(const std::string& task_id, const Config& config) {
  Parsed p = Parse(task_id);
  Dense(config);
  return p.fetch != nullptr ? FetchEnv::Spec(p.fetch->has_object) : HandReachEnv::Spec();
}

std::unique_ptr<Env> MakeEnv(const std::string& task_id, const Config& config) {
  Parsed p = Parse(task_id);
  bool dense = Dense(config);
  if (p.fetch != nullptr) {
    const FetchParams& params = *p.fetch;
    std::string file = ModelFile(config, params.xml);
    auto shared = Cached<FetchShared>(p.base + "\n" + file, [&] { return LoadFetch(file, params); });
    return std::make_unique<FetchEnv>(shared, params, dense);
  }
  std::string file = ModelFile(config, "hand/reach.xml");
  auto shared = Cached<HandShared>("HandReach\n" + file, [&] { return LoadHand(file); });
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
