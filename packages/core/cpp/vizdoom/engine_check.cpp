// A stand-alone driver that runs the three DoomNav tasks with random actions, for the sanitizer
// run (tools/wad/sanitize.py --assets DIR). Not part of the wheel.
//
//   engine_check ASSET_ROOT [STEPS]
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "tasks.h"

int main(int argc, char** argv) {
  using namespace envpool;
  if (argc < 2) {
    std::fprintf(stderr, "usage: engine_check ASSET_ROOT [STEPS]\n");
    return 2;
  }
  const int steps = argc > 2 ? std::atoi(argv[2]) : 2000;
  const char* tasks[] = {"DoomNav-MyWayHome-v0", "DoomNav-HealthGathering-v0", "DoomNav-Freedoom2Map01-v0"};
  for (const char* task : tasks) {
    Config config(std::map<std::string, ConfigValue>{{"asset_root", std::string(argv[1])},
                                                     {"height", std::int64_t{60}},
                                                     {"width", std::int64_t{80}}});
    EnvSpec spec = vizdoom::TaskSpec(task, config);
    auto env = vizdoom::MakeTask(task, config);
    std::vector<std::uint8_t> frame(60 * 80 * 3);
    void* fields[1] = {frame.data()};
    ObsOut out(fields);
    Rng rng(12345);
    env->Reset(rng, out);
    double total = 0;
    int episodes = 0, t = 0;
    for (int i = 0; i < steps; ++i) {
      Action a;
      a.discrete = static_cast<std::int64_t>(rng() % spec.action.n);
      StepOutcome r = env->Step(a, rng, out);
      total += r.reward;
      if (r.terminated || ++t >= spec.max_episode_steps) {
        env->Reset(rng, out);
        ++episodes;
        t = 0;
      }
    }
    std::printf("ok %s: %d steps, %d episodes ended, total reward %.4f\n", task, steps, episodes, total);
  }
  return 0;
}
