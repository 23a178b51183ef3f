// The DoomNav scenarios on top of World (engine.h): which one a task plays, on which files, is
// given by its parameters from the task table (envpool/tasks.py).
#include "tasks.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <stdexcept>
#include <vector>

#include "cfg.h"
#include "engine.h"

namespace envpool::vizdoom {
namespace {

constexpr int kGreenArmor = 2018;
constexpr int kMedikit = 2012;
constexpr int kMapSpot = 9001;
constexpr int kPlayer1Start = 1;

// What every scenario reads from the config: the options, and the files and map the task table
// (envpool/tasks.py) names: "iwad" (textures, palette), "map_wad" (default: the IWAD) holding map
// "map", and an optional scenario "cfg" (rewards, time limit). Paths are resolved against asset_root.
struct Common {
  int frame_skip = 4, height = 120, width = 160;
  std::string iwad, map_wad, map, cfg;  // cfg is empty when the task has none
};

std::string Asset(const Config& c, const std::string& key) {
  const std::string root = c.String("asset_root", "");
  if (root.empty())
    throw std::invalid_argument("the vizdoom family needs option 'asset_root' (envpool.make passes it from the "
                                "installed envpool-assets-vizdoom package)");
  const std::string rel = c.Param<std::string>(key);
  if (rel.empty() || rel.size() > 4096 || rel.find('\0') != std::string::npos)
    throw std::invalid_argument("task parameter '" + key + "' must be a file path below asset_root, got '" +
                                Printable(rel) + "'");
  return root + "/" + rel;
}

Common ReadCommon(const Config& c) {
  Common o;
  o.frame_skip = static_cast<int>(c.Int("frame_skip", 4));
  o.height = static_cast<int>(c.Int("height", 120));
  o.width = static_cast<int>(c.Int("width", 160));
  if (o.frame_skip < 1 || o.frame_skip > 64)
    throw std::invalid_argument("frame_skip must be in [1, 64], got " + std::to_string(o.frame_skip));
  if (o.height < 16 || o.height > 1024 || o.width < 16 || o.width > 1024)
    throw std::invalid_argument("height and width must be in [16, 1024], got " + std::to_string(o.height) + "x" +
                                std::to_string(o.width));
  o.map = c.Param<std::string>("map");
  bool lump_name = !o.map.empty() && o.map.size() <= 8;
  for (char ch : o.map) {
    const auto u = static_cast<unsigned char>(ch);
    lump_name = lump_name && (std::isupper(u) || std::isdigit(u) || ch == '_');
  }
  if (!lump_name)
    throw std::invalid_argument("task parameter 'map' must be a map lump name (1 to 8 of A-Z, 0-9, _), got '" +
                                Printable(o.map) + "'");
  o.iwad = Asset(c, "iwad");
  o.map_wad = c.Has("map_wad") ? Asset(c, "map_wad") : o.iwad;
  o.cfg = c.Has("cfg") ? Asset(c, "cfg") : "";
  return o;
}

// The task's scenario .cfg, validated; empty when the task has none (CfgNumber gives the defaults).
Cfg ScenarioCfg(const Common& o) { return o.cfg.empty() ? Cfg{} : ReadCfg(o.cfg); }

const ThingDef* FindThing(const Level& lv, int type) {
  for (const auto& t : lv.things)
    if (t.type == type) return &t;
  return nullptr;
}

class DoomNav : public Env {
 public:
  DoomNav(const Common& o, std::shared_ptr<const Level> lv, const std::string& map_path)
      : o_(o), world_(std::move(lv)), map_path_(map_path) {
    start_ = FindThing(world_.level(), kPlayer1Start);
    if (start_ == nullptr)
      throw std::invalid_argument(map_path + ": map " + world_.level().map_name +
                                  " has no player 1 start (thing type 1) in its THINGS");
  }

  void Reset(Rng& rng, const ObsOut& out) override {
    world_.Reset(start_->x, start_->y, start_->angle);
    Begin(rng);
    world_.Render(out.Field<std::uint8_t>(0), o_.height, o_.width);
  }

  StepOutcome Step(const Action& a, Rng& rng, const ObsOut& out) override {
    if (a.discrete < 0 || a.discrete >= kNumActions)
      throw std::invalid_argument("DoomNav actions are 0.." + std::to_string(kNumActions - 1) + ", got " +
                                  std::to_string(a.discrete));
    StepOutcome r;
    for (int k = 0; k < o_.frame_skip && !r.terminated; ++k) {
      auto picked = world_.Tic(static_cast<int>(a.discrete));
      r.reward += AfterTic(picked, rng, &r.terminated);
    }
    world_.Render(out.Field<std::uint8_t>(0), o_.height, o_.width);
    return r;
  }

  // state = [x, y, angle_degrees] or [x, y, angle_degrees, health]
  void SetState(const std::vector<double>& s, const ObsOut& out) override {
    if (s.size() != 3 && s.size() != 4)
      throw std::invalid_argument("DoomNav state is [x, y, angle_degrees] or [x, y, angle_degrees, health]");
    if (!std::isfinite(s[0]) || !std::isfinite(s[1]) || !std::isfinite(s[2]) || world_.SectorAt(s[0], s[1]) < 0)
      throw std::invalid_argument("position (" + std::to_string(s[0]) + ", " + std::to_string(s[1]) +
                                  ") is outside the map");
    if (s.size() == 4 && !(std::isfinite(s[3]) && s[3] >= 1 && s[3] <= 200))
      throw std::invalid_argument("health must be in [1, 200], got " + std::to_string(s[3]));
    world_.Place(s[0], s[1], s[2]);
    if (s.size() == 4) world_.health = static_cast<int>(s[3]);
    world_.Render(out.Field<std::uint8_t>(0), o_.height, o_.width);
  }

 protected:
  virtual void Begin(Rng& rng) = 0;
  virtual double AfterTic(const std::vector<int>& picked, Rng& rng, bool* terminated) = 0;

  Common o_;
  World world_;
  std::string map_path_;
  const ThingDef* start_ = nullptr;
};

// my_way_home: spawn at a random MapSpot with a random angle; +1 and the end on picking up the
// green armor; living_reward (from the cfg) every tic.
class MyWayHome : public DoomNav {
 public:
  MyWayHome(const Common& o, std::shared_ptr<const Level> lv, const std::string& map_path, double living)
      : DoomNav(o, std::move(lv), map_path), living_(living) {
    goal_ = FindThing(world_.level(), kGreenArmor);
    if (goal_ == nullptr)
      throw std::invalid_argument(map_path + ": map " + world_.level().map_name +
                                  " has no green armor (thing type 2018) to use as the goal");
    for (const auto& t : world_.level().things)
      if (t.type == kMapSpot) spots_.push_back(&t);
  }

 protected:
  void Begin(Rng& rng) override {
    world_.AddItem(goal_->x, goal_->y, kGreenArmor);
    if (!spots_.empty()) {
      const ThingDef* s = spots_[std::uniform_int_distribution<std::size_t>(0, spots_.size() - 1)(rng)];
      world_.Place(s->x, s->y, std::uniform_real_distribution<double>(0, 360)(rng));
    }
  }
  double AfterTic(const std::vector<int>& picked, Rng&, bool* terminated) override {
    double r = living_;
    if (std::find(picked.begin(), picked.end(), kGreenArmor) != picked.end()) {
      r += 1.0;
      *terminated = true;
    }
    return r;
  }

 private:
  double living_;
  const ThingDef* goal_ = nullptr;
  std::vector<const ThingDef*> spots_;
};

// Damage of a damaging floor: {amount, interval in tics}, by sector special.
std::pair<int, int> FloorDamage(MapFormat f, int special) {
  if (f == MapFormat::kDoom) {
    switch (special) {
      case 7:
        return {5, 32};
      case 5:
        return {10, 32};
      case 4:
      case 16:
        return {20, 32};
      default:
        return {0, 0};
    }
  }
  switch (special) {
    case 69:
      return {10, 32};
    case 71:
      return {5, 32};
    case 80:
      return {20, 32};
    case 82:
      return {5, 16};
    case 83:
      return {8, 16};
    case 85:
      return {4, 32};
    default:
      return {0, 0};
  }
}

// health_gathering: a damaging floor; medikits (+25 health) spawned at random, 16 + 1 at the
// start and one more every 30 tics; living_reward every tic, -death_penalty and the end at 0 health.
class HealthGathering : public DoomNav {
 public:
  HealthGathering(const Common& o, std::shared_ptr<const Level> lv, const std::string& map_path, double living,
                  double death)
      : DoomNav(o, std::move(lv), map_path), living_(living), death_(death) {
    const auto& L = world_.level().lines;
    minx_ = miny_ = 1e18;
    maxx_ = maxy_ = -1e18;
    for (const auto& l : L) {
      minx_ = std::min(minx_, l.minx);
      maxx_ = std::max(maxx_, l.maxx);
      miny_ = std::min(miny_, l.miny);
      maxy_ = std::max(maxy_, l.maxy);
    }
  }

 protected:
  void Spawn(Rng& rng) {
    for (int tries = 0; tries < 64; ++tries) {
      double x = std::uniform_real_distribution<double>(minx_ + 1, maxx_ - 1)(rng);
      double y = std::uniform_real_distribution<double>(miny_ + 1, maxy_ - 1)(rng);
      if (world_.SectorAt(x, y) >= 0) {
        world_.AddItem(x, y, kMedikit);
        return;
      }
    }
  }
  void Begin(Rng& rng) override {
    for (int i = 0; i < 17; ++i) Spawn(rng);
  }
  double AfterTic(const std::vector<int>&, Rng& rng, bool* terminated) override {
    if (world_.tic() % 30 == 0) Spawn(rng);
    int s = world_.SectorAt(world_.x(), world_.y());
    if (s >= 0) {
      auto [amount, interval] = FloorDamage(world_.level().format, world_.level().sectors[static_cast<std::size_t>(s)].special);
      if (amount > 0 && world_.tic() % interval == 0) world_.health -= amount;
    }
    double r = living_;
    if (world_.health <= 0) {
      r -= death_;
      *terminated = true;
    }
    return r;
  }

 private:
  double living_, death_;
  double minx_, maxx_, miny_, maxy_;
};

// reach_exit (Freedoom2 MAP01): start at the player 1 start; +1 and the end on reaching an exit line.
class ReachExit : public DoomNav {
 public:
  using DoomNav::DoomNav;

 protected:
  void Begin(Rng&) override {}
  double AfterTic(const std::vector<int>&, Rng&, bool* terminated) override {
    if (world_.exited()) {
      *terminated = true;
      return 1.0;
    }
    return 0.0;
  }
};

std::unique_ptr<Env> MakeMyWayHome(const Common& o) {
  const double living = CfgNumber(ScenarioCfg(o), "livingreward", -0.0001);
  return std::make_unique<MyWayHome>(o, LoadLevel(o.iwad, o.map_wad, o.map, {kGreenArmor}), o.map_wad, living);
}

std::unique_ptr<Env> MakeHealthGathering(const Common& o) {
  const Cfg cfg = ScenarioCfg(o);
  const double living = CfgNumber(cfg, "livingreward", 1), death = CfgNumber(cfg, "deathpenalty", 100);
  return std::make_unique<HealthGathering>(o, LoadLevel(o.iwad, o.map_wad, o.map, {kMedikit}), o.map_wad, living,
                                           death);
}

std::unique_ptr<Env> MakeReachExit(const Common& o) {
  return std::make_unique<ReachExit>(o, LoadLevel(o.iwad, o.map_wad, o.map, {}), o.map_wad);
}

struct Scenario {
  int timeout_tics;  // unless the cfg sets episode_timeout
  std::unique_ptr<Env> (*make)(const Common&);
};

// The rules, by the task parameter "scenario" (envpool/tasks.py names one per task).
const Scenario& FindScenario(const Config& c) {
  static const std::map<std::string, Scenario> scenarios = {
      {"my_way_home", {2100, &MakeMyWayHome}},
      {"health_gathering", {2100, &MakeHealthGathering}},
      {"reach_exit", {10500, &MakeReachExit}},  // 5 minutes of 35 Hz tics
  };
  return Lookup(scenarios, "vizdoom scenario", c.Param<std::string>("scenario"));
}

}  // namespace

EnvSpec TaskSpec(const std::string&, const Config& config) {
  const Scenario& scenario = FindScenario(config);
  const Common o = ReadCommon(config);
  EnvSpec s;
  FieldSpec f;
  f.name = "obs";
  f.dtype = DType::kUInt8;
  f.shape = {o.height, o.width, 3};
  f.low = {0};
  f.high = {255};
  s.obs.push_back(f);
  s.action.discrete = true;
  s.action.n = kNumActions;
  const int tics = static_cast<int>(CfgNumber(ScenarioCfg(o), "episodetimeout", scenario.timeout_tics));
  s.max_episode_steps = (tics + o.frame_skip - 1) / o.frame_skip;
  return s;
}

std::unique_ptr<Env> MakeTask(const std::string&, const Config& config) {
  const Scenario& scenario = FindScenario(config);
  return scenario.make(ReadCommon(config));
}

}  // namespace envpool::vizdoom
