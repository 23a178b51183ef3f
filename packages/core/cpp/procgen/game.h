// Shared machinery of the procgen-style games: procgen's conventions (64x64x3 uint8 frames,
// its 15-action combo table, num_levels/start_level level seeds, easy/hard distributions) and
// offscreen rendering with QPainter straight into the observation buffer.
//
// Rendering uses only the raster engine on a QImage: no QGuiApplication, no display, no fonts.
#pragma once

#include <QtGui/QColor>
#include <QtGui/QImage>
#include <QtGui/QPainter>

#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>

#include "../engine/env.h"

namespace envpool::procgen {

constexpr int kRes = 64;
constexpr int kNumActions = 15;
constexpr std::int64_t kMaxLevel = 0x7fffffff;  // procgen's level seeds are non-negative int32

// One entry of procgen's combo table: the movement of an action (x right, y up).
struct Move {
  int dx;
  int dy;
};

// procgen's 15 actions: LEFT+DOWN, LEFT, LEFT+UP, DOWN, (none), UP, RIGHT+DOWN, RIGHT, RIGHT+UP,
// then the keys D, A, W, S, Q, E, which these games ignore (no-ops, as in most procgen games).
inline Move ActionMove(std::int64_t action) {
  static constexpr Move kTable[kNumActions] = {{-1, -1}, {-1, 0}, {-1, 1}, {0, -1}, {0, 0}, {0, 1}, {1, -1}, {1, 0},
                                               {1, 1},   {0, 0},  {0, 0},  {0, 0},  {0, 0}, {0, 0}, {0, 0}};
  if (action < 0 || action >= kNumActions) throw std::invalid_argument("action out of range");
  return kTable[action];
}

struct LevelOptions {
  std::int64_t num_levels = 0;   // 0: every level seed in [0, 2^31) may be drawn
  std::int64_t start_level = 0;  // first level seed when num_levels > 0
  bool hard = true;              // distribution_mode == "hard"
};

// Validates the task options; throws std::invalid_argument (ValueError in Python) naming the fix.
inline LevelOptions ParseOptions(const Config& config) {
  LevelOptions o;
  o.num_levels = config.Int("num_levels", 0);
  o.start_level = config.Int("start_level", 0);
  const std::string mode = config.String("distribution_mode", "hard");
  if (o.num_levels < 0)
    throw std::invalid_argument("num_levels must be >= 0 (0 means unlimited levels), got " +
                                std::to_string(o.num_levels));
  if (o.start_level < 0 || o.start_level > kMaxLevel)
    throw std::invalid_argument("start_level must be in [0, 2^31 - 1], got " + std::to_string(o.start_level));
  if (o.num_levels > 0 && o.start_level + o.num_levels - 1 > kMaxLevel)
    throw std::invalid_argument("start_level + num_levels - 1 must be <= 2^31 - 1, got start_level=" +
                                std::to_string(o.start_level) + ", num_levels=" + std::to_string(o.num_levels));
  if (mode == "easy") {
    o.hard = false;
  } else if (mode == "hard") {
    o.hard = true;
  } else {
    throw std::invalid_argument("distribution_mode must be 'easy' or 'hard', got '" + mode +
                                "' (procgen's 'exploration', 'memory' and 'extreme' modes are not implemented)");
  }
  return o;
}

inline EnvSpec GameSpec(int max_episode_steps) {
  EnvSpec s;
  FieldSpec f;
  f.name = "obs";
  f.dtype = DType::kUInt8;
  f.shape = {kRes, kRes, 3};
  f.low = {0.0};
  f.high = {255.0};
  s.obs.push_back(f);
  s.action.discrete = true;
  s.action.n = kNumActions;
  s.max_episode_steps = max_episode_steps;
  return s;
}

// The per-level random source. Integer draws are done by hand (not std::uniform_*_distribution,
// whose algorithm differs between standard libraries) so a level seed means the same level everywhere.
class LevelRng {
 public:
  void Seed(std::uint32_t seed) { gen_.seed(seed); }
  // Uniform integer in [0, n), n >= 1.
  int Int(int n) { return static_cast<int>(gen_() % static_cast<std::uint32_t>(n)); }
  int Range(int lo, int hi) { return lo + Int(hi - lo + 1); }  // inclusive
  double Unit() { return static_cast<double>(gen_() >> 8) / static_cast<double>(1u << 24); }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Unit(); }

 private:
  std::mt19937 gen_;
};

// Base class: draws a level seed at each reset, then lets the game build the level, update and draw.
class Game : public Env {
 public:
  explicit Game(const LevelOptions& options) : options_(options) {}

  void Reset(Rng& rng, const ObsOut& out) override {
    const std::uint64_t r = rng();
    level_seed_ = options_.num_levels == 0
                      ? static_cast<std::int64_t>(r & static_cast<std::uint64_t>(kMaxLevel))
                      : options_.start_level + static_cast<std::int64_t>(r % static_cast<std::uint64_t>(options_.num_levels));
    level_.Seed(static_cast<std::uint32_t>(level_seed_));
    NewLevel();
    Render(out);
  }

  StepOutcome Step(const Action& action, Rng&, const ObsOut& out) override {
    StepOutcome r = Update(ActionMove(action.discrete));
    Render(out);
    return r;
  }

  std::int64_t level_seed() const { return level_seed_; }

 protected:
  virtual void NewLevel() = 0;
  virtual StepOutcome Update(Move move) = 0;
  // Draws the whole frame in a kRes x kRes pixel coordinate system (y down).
  virtual void Draw(QPainter& painter) = 0;

  bool hard() const { return options_.hard; }
  LevelRng& level() { return level_; }

  // A colour of the level's palette: hue from the level, fixed saturation/value ranges.
  QColor LevelColor(int hue_offset, int sat, int val) {
    return QColor::fromHsv((base_hue_ + hue_offset) % 360, sat, val);
  }
  void PickPalette() { base_hue_ = hard() ? level_.Int(360) : 210; }

 private:
  void Render(const ObsOut& out) {
    // The observation slot is 64 rows of 64 RGB pixels (192 bytes, a multiple of 4 as QImage wants).
    QImage image(out.Field<std::uint8_t>(0), kRes, kRes, kRes * 3, QImage::Format_RGB888);
    QPainter painter(&image);
    if (!painter.isActive()) throw std::runtime_error("QPainter could not paint on the observation image");
    painter.setRenderHint(QPainter::Antialiasing, true);
    Draw(painter);
    painter.end();
  }

  LevelOptions options_;
  LevelRng level_;
  std::int64_t level_seed_ = 0;
  int base_hue_ = 210;
};

}  // namespace envpool::procgen
