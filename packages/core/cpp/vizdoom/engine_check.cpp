// A stand-alone driver that runs one DoomNav task with random actions, for the sanitizer run
// (tools/wad/sanitize.py --assets DIR, which runs it once per vizdoom task of envpool/tasks.py with
// that task's string parameters and asset paths). Not part of the wheel.
//
//   engine_check ASSET_ROOT STEPS NAME KEY=VALUE...
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <string>
#include <vector>

#include "tasks.h"

int main(int argc, char** argv) {
  using namespace envpool;
  if (argc < 4) {
    std::fprintf(stderr, "usage: engine_check ASSET_ROOT STEPS NAME KEY=VALUE...\n");
    return 2;
  }
  char* end = nullptr;
  errno = 0;
  const long steps = std::strtol(argv[2], &end, 10);
  if (end == argv[2] || *end != 0 || errno == ERANGE || steps < 1 || steps > 10'000'000) {
    std::fprintf(stderr, "STEPS must be an integer in [1, 10000000], got '%s'\n", argv[2]);
    return 2;
  }
  const char* task = argv[3];
  std::map<std::string, ConfigValue> values{
      {"asset_root", std::string(argv[1])}, {"height", std::int64_t{60}}, {"width", std::int64_t{80}}};
  for (int i = 4; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto eq = arg.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::fprintf(stderr, "expected KEY=VALUE, got '%s'\n", argv[i]);
      return 2;
    }
    values[arg.substr(0, eq)] = arg.substr(eq + 1);
  }
  try {
    const Config config(values);
    EnvSpec spec = vizdoom::TaskSpec(task, config);
    auto env = vizdoom::MakeTask(task, config);
    std::vector<std::uint8_t> frame(60 * 80 * 3);
    void* fields[1] = {frame.data()};
    ObsOut out(fields);
    Rng rng(12345);
    env->Reset(rng, out);
    double total = 0;
    int episodes = 0, t = 0;
    for (long i = 0; i < steps; ++i) {
      Action a;
      a.discrete = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(spec.action.n));
      StepOutcome r = env->Step(a, rng, out);
      total += r.reward;
      if (r.terminated || ++t >= spec.max_episode_steps) {
        env->Reset(rng, out);
        ++episodes;
        t = 0;
      }
    }
    std::printf("ok %s: %ld steps, %d episodes ended, total reward %.4f\n", task, steps, episodes, total);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", task, e.what());
    return 1;
  }
  return 0;
}
