// Extension module envpool._procgen: procgen-style games of our own, rendered with QPainter.
// Linked against Qt5Core/Qt5Gui, which envpool_procgen_libs.load() puts into the process before
// this module is imported (envpool.procgen_loader).
#include <dlfcn.h>

#include <QtCore/QtGlobal>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "../engine/bindings.h"
#include "dodge.h"
#include "maze.h"

namespace envpool::procgen {
namespace {

struct Task {
  EnvSpec (*spec)();
  std::unique_ptr<Env> (*make)(const LevelOptions&);
};

template <typename T>
Task TaskOf() {
  return Task{&T::Spec, [](const LevelOptions& o) { return std::unique_ptr<Env>(new T(o)); }};
}

// The games, by the task parameter "game" (envpool/tasks.py names one per task).
const Task& Find(const Config& config) {
  static const std::map<std::string, Task> games = {
      {"maze", TaskOf<Maze>()},
      {"dodge", TaskOf<Dodge>()},
  };
  return Lookup(games, "procgen game", config.Param<std::string>("game"));
}

EnvSpec SpecOf(const std::string&, const Config& config) {
  ParseOptions(config);
  return Find(config).spec();
}
std::unique_ptr<Env> MakeEnv(const std::string&, const Config& config) {
  return Find(config).make(ParseOptions(config));
}

// The file libQt5Core this module's references to Qt resolved to.
std::string QtCorePath() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&qVersion), &info) == 0 || info.dli_fname == nullptr) return "";
  return info.dli_fname;
}

}  // namespace
}  // namespace envpool::procgen

NB_MODULE(_procgen, m) {
  m.doc() = "envpool procgen-style family (QtMaze, QtDodge), rendered offscreen with QPainter";
  envpool::BindFamily(m, envpool::Family{&envpool::procgen::SpecOf, &envpool::procgen::MakeEnv});
  m.def("qt_version", [] { return std::string(qVersion()); }, "The run-time Qt version (qVersion()).");
  m.def("qt_core_path", &envpool::procgen::QtCorePath, "Path of the libQt5Core this module is bound to.");
}
