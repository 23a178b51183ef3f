// The three DoomNav tasks on top of World (engine.h).
#include "tasks.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <map>
#include <stdexcept>
#include <vector>

#include "engine.h"

namespace envpool::vizdoom {
namespace {

constexpr int kGreenArmor = 2018;
constexpr int kMedikit = 2012;
constexpr int kMapSpot = 9001;
constexpr int kPlayer1Start = 1;

// A ViZDoom-style scenario .cfg: `key = value` lines, '#' comments; keys compared without
// case or underscores. Only scalar keys are returned ({...} lists are skipped).
std::map<std::string, std::string> ReadCfg(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::invalid_argument(path + ": cannot open the scenario config");
  std::map<std::string, std::string> out;
  std::string line;
  int depth = 0;
  while (std::getline(f, line)) {
    auto hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    depth += static_cast<int>(std::count(line.begin(), line.end(), '{')) -
             static_cast<int>(std::count(line.begin(), line.end(), '}'));
    auto eq = line.find('=');
    if (eq == std::string::npos || depth > 0) continue;
    std::string key, value;
    for (char c : line.substr(0, eq))
      if (!std::isspace(static_cast<unsigned char>(c)) && c != '_')
        key.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    for (char c : line.substr(eq + 1))
      if (!std::isspace(static_cast<unsigned char>(c))) value.push_back(c);
    if (!key.empty() && !value.empty() && value != "{") out[key] = value;
  }
  return out;
}

double CfgNumber(const std::map<std::string, std::string>& cfg, const std::string& key, double fallback,
                 const std::string& path) {
  auto it = cfg.find(key);
  if (it == cfg.end()) return fallback;
  char* end = nullptr;
  double v = std::strtod(it->second.c_str(), &end);
  if (end == it->second.c_str() || *end != 0 || !std::isfinite(v))
    throw std::invalid_argument(path + ": '" + key + "' is not a number: " + it->second);
  return v;
}

struct Common {
  std::string root;
  int frame_skip = 4, height = 120, width = 160;
};

Common ReadCommon(const Config& c) {
  Common o;
  o.root = c.String("asset_root", "");
  o.frame_skip = static_cast<int>(c.Int("frame_skip", 4));
  o.height = static_cast<int>(c.Int("height", 120));
  o.width = static_cast<int>(c.Int("width", 160));
  if (o.frame_skip < 1 || o.frame_skip > 64)
    throw std::invalid_argument("frame_skip must be in [1, 64], got " + std::to_string(o.frame_skip));
  if (o.height < 16 || o.height > 1024 || o.width < 16 || o.width > 1024)
    throw std::invalid_argument("height and width must be in [16, 1024], got " + std::to_string(o.height) + "x" +
                                std::to_string(o.width));
  return o;
}

std::string Asset(const Common& o, const std::string& rel) {
  if (o.root.empty())
    throw std::invalid_argument("the vizdoom family needs option 'asset_root' (envpool.make passes it from the "
                                "installed envpool-assets-vizdoom package)");
  return o.root + "/" + rel;
}

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
  static constexpr const char* kMap = "scenarios/my_way_home.wad";
  static constexpr const char* kCfg = "scenarios/my_way_home.cfg";

  MyWayHome(const Common& o, std::shared_ptr<const Level> lv, const std::string& map_path, double living)
      : DoomNav(o, std::move(lv), map_path), living_(living) {
    goal_ = FindThing(world_.level(), kGreenArmor);
    if (goal_ == nullptr)
      throw std::invalid_argument(map_path + ": map MAP01 has no green armor (thing type 2018) to use as the goal");
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
  static constexpr const char* kMap = "scenarios/health_gathering.wad";
  static constexpr const char* kCfg = "scenarios/health_gathering.cfg";

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

// Freedoom2 MAP01: start at the player 1 start; +1 and the end on reaching an exit line.
class Map01 : public DoomNav {
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

constexpr int kMyWayHomeTimeout = 2100;  // tics, overridden by the cfg's episode_timeout
constexpr int kMap01Timeout = 10500;     // 5 minutes of 35 Hz tics

int TimeoutTics(const std::string& task_id, const Common& o) {
  if (task_id == "DoomNav-Freedoom2Map01-v0") return kMap01Timeout;
  const char* cfg = task_id == "DoomNav-MyWayHome-v0" ? MyWayHome::kCfg : HealthGathering::kCfg;
  std::string path = Asset(o, cfg);
  return static_cast<int>(CfgNumber(ReadCfg(path), "episodetimeout", kMyWayHomeTimeout, path));
}

void CheckTask(const std::string& task_id) {
  if (task_id != "DoomNav-MyWayHome-v0" && task_id != "DoomNav-HealthGathering-v0" &&
      task_id != "DoomNav-Freedoom2Map01-v0")
    throw std::invalid_argument("vizdoom has no task '" + task_id + "'");
}

}  // namespace

EnvSpec TaskSpec(const std::string& task_id, const Config& config) {
  CheckTask(task_id);
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
  const int tics = TimeoutTics(task_id, o);
  s.max_episode_steps = (tics + o.frame_skip - 1) / o.frame_skip;
  return s;
}

std::unique_ptr<Env> MakeTask(const std::string& task_id, const Config& config) {
  CheckTask(task_id);
  const Common o = ReadCommon(config);
  const std::string iwad = Asset(o, "freedoom2.wad");
  if (task_id == "DoomNav-MyWayHome-v0") {
    const std::string map = Asset(o, MyWayHome::kMap), cfgp = Asset(o, MyWayHome::kCfg);
    const double living = CfgNumber(ReadCfg(cfgp), "livingreward", -0.0001, cfgp);
    return std::make_unique<MyWayHome>(o, LoadLevel(iwad, map, "MAP01", {kGreenArmor}), map, living);
  }
  if (task_id == "DoomNav-HealthGathering-v0") {
    const std::string map = Asset(o, HealthGathering::kMap), cfgp = Asset(o, HealthGathering::kCfg);
    auto cfg = ReadCfg(cfgp);
    return std::make_unique<HealthGathering>(o, LoadLevel(iwad, map, "MAP01", {kMedikit}), map,
                                             CfgNumber(cfg, "livingreward", 1, cfgp),
                                             CfgNumber(cfg, "deathpenalty", 100, cfgp));
  }
  return std::make_unique<Map01>(o, LoadLevel(iwad, iwad, "MAP01", {}), iwad);
}

}  // namespace envpool::vizdoom
