// Extension module envpool._classic_control: the classic control family.
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "../engine/bindings.h"
#include "classic_control.h"

namespace envpool::classic_control {
namespace {

struct Task {
  EnvSpec (*spec)();
  std::unique_ptr<Env> (*make)();
};

template <typename T>
Task TaskOf() {
  return Task{&T::Spec, [] { return std::unique_ptr<Env>(new T()); }};
}

// The implementations, by the task parameter "env" (envpool/tasks.py names one per task).
const Task& Find(const Config& config) {
  static const std::map<std::string, Task> envs = {
      {"CartPole", TaskOf<CartPole>()},
      {"Pendulum", TaskOf<Pendulum>()},
      {"MountainCar", TaskOf<MountainCar>()},
      {"MountainCarContinuous", TaskOf<MountainCarContinuous>()},
      {"Acrobot", TaskOf<Acrobot>()},
  };
  return Lookup(envs, "classic_control env", config.Param<std::string>("env"));
}

EnvSpec SpecOf(const std::string&, const Config& config) { return Find(config).spec(); }
std::unique_ptr<Env> MakeEnv(const std::string&, const Config& config) { return Find(config).make(); }

}  // namespace
}  // namespace envpool::classic_control

NB_MODULE(_classic_control, m) {
  m.doc() = "envpool classic control family (CartPole, Pendulum, MountainCar, Acrobot)";
  envpool::BindFamily(m, envpool::Family{&envpool::classic_control::SpecOf, &envpool::classic_control::MakeEnv});
}
