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

const Task& Find(const std::string& task_id) {
  static const std::map<std::string, Task> tasks = {
      {"CartPole-v1", TaskOf<CartPole>()},
      {"Pendulum-v1", TaskOf<Pendulum>()},
      {"MountainCar-v0", TaskOf<MountainCar>()},
      {"MountainCarContinuous-v0", TaskOf<MountainCarContinuous>()},
      {"Acrobot-v1", TaskOf<Acrobot>()},
  };
  auto it = tasks.find(task_id);
  if (it == tasks.end()) throw std::invalid_argument("classic_control has no task '" + task_id + "'");
  return it->second;
}

EnvSpec SpecOf(const std::string& task_id, const Config&) { return Find(task_id).spec(); }
std::unique_ptr<Env> MakeEnv(const std::string& task_id, const Config&) { return Find(task_id).make(); }

}  // namespace
}  // namespace envpool::classic_control

NB_MODULE(_classic_control, m) {
  m.doc() = "envpool classic control family (CartPole, Pendulum, MountainCar, Acrobot)";
  envpool::BindFamily(m, envpool::Family{&envpool::classic_control::SpecOf, &envpool::classic_control::MakeEnv});
}
