// Game "dodge": collect every coin in a walled arena while dodging hazards that fly in straight
// lines and bounce off the walls. Each coin gives reward 1; the last one gives 10 more and ends
// the episode (success). Touching a hazard ends it with no further reward (failure). Otherwise the
// episode is truncated after 1000 steps. Levels set the number, size and speed of hazards, the
// coin positions and (hard mode) the palette. easy: 3-5 slow hazards, 3 coins;
// hard: 5-10 faster hazards, 5 coins.
#pragma once

#include <QtCore/QPointF>
#include <QtCore/QRectF>
#include <QtGui/QLinearGradient>
#include <QtGui/QPen>
#include <QtGui/QPolygonF>

#include <cmath>
#include <vector>

#include "game.h"

namespace envpool::procgen {

class Dodge : public Game {
 public:
  static constexpr int kMaxSteps = 1000;
  static constexpr double kCoinReward = 1.0;
  static constexpr double kClearReward = 10.0;

  explicit Dodge(const LevelOptions& o) : Game(o) {}
  static EnvSpec Spec() { return GameSpec(kMaxSteps); }

 protected:
  void NewLevel() override {
    PickPalette();
    ax_ = kRes / 2.0;
    ay_ = kRes - 8.0;
    hazards_.clear();
    coins_.clear();
    const int n_hazards = hard() ? level().Range(5, 10) : level().Range(3, 5);
    const double vmin = hard() ? 0.6 : 0.35, vmax = hard() ? 1.4 : 0.8;
    for (int i = 0; i < n_hazards; ++i) {
      Body h;
      h.r = level().Uniform(2.5, hard() ? 4.5 : 3.5);
      do {
        h.x = level().Uniform(kWall + h.r, kRes - kWall - h.r);
        h.y = level().Uniform(kWall + h.r, kRes * 0.6);
      } while (Dist(h.x, h.y, ax_, ay_) < 20.0);
      const double angle = level().Uniform(0.0, 2.0 * 3.14159265358979323846);
      const double speed = level().Uniform(vmin, vmax);
      h.vx = speed * std::cos(angle);
      h.vy = speed * std::sin(angle);
      hazards_.push_back(h);
    }
    const int n_coins = hard() ? 5 : 3;
    for (int i = 0; i < n_coins; ++i) {
      Body c;
      c.r = 2.5;
      do {
        c.x = level().Uniform(kWall + 4, kRes - kWall - 4);
        c.y = level().Uniform(kWall + 4, kRes - kWall - 4);
      } while (Dist(c.x, c.y, ax_, ay_) < 12.0);
      coins_.push_back(c);
    }
  }

  StepOutcome Update(Move m) override {
    StepOutcome r;
    double len = std::sqrt(static_cast<double>(m.dx * m.dx + m.dy * m.dy));
    if (len > 0) {
      ax_ = Clamp(ax_ + kSpeed * m.dx / len, kWall + kAgentR, kRes - kWall - kAgentR);
      ay_ = Clamp(ay_ - kSpeed * m.dy / len, kWall + kAgentR, kRes - kWall - kAgentR);
    }
    for (auto& h : hazards_) {
      h.x += h.vx;
      h.y += h.vy;
      if (h.x < kWall + h.r || h.x > kRes - kWall - h.r) {
        h.vx = -h.vx;
        h.x = Clamp(h.x, kWall + h.r, kRes - kWall - h.r);
      }
      if (h.y < kWall + h.r || h.y > kRes - kWall - h.r) {
        h.vy = -h.vy;
        h.y = Clamp(h.y, kWall + h.r, kRes - kWall - h.r);
      }
    }
    for (auto& c : coins_) {
      if (!c.taken && Dist(c.x, c.y, ax_, ay_) < c.r + kAgentR) {
        c.taken = true;
        r.reward += kCoinReward;
      }
    }
    bool all = true;
    for (const auto& c : coins_) all = all && c.taken;
    if (all) {
      r.reward += kClearReward;
      r.terminated = true;
      return r;
    }
    for (const auto& h : hazards_) {
      if (Dist(h.x, h.y, ax_, ay_) < h.r + kAgentR) {
        r.terminated = true;
        return r;
      }
    }
    return r;
  }

  void Draw(QPainter& p) override {
    QLinearGradient sky(0, 0, 0, kRes);
    sky.setColorAt(0.0, LevelColor(0, 120, 60));
    sky.setColorAt(1.0, LevelColor(30, 90, 110));
    p.fillRect(QRectF(0, 0, kRes, kRes), sky);
    p.setPen(QPen(LevelColor(180, 60, 200), kWall));
    p.setBrush(Qt::NoBrush);
    p.drawRect(QRectF(kWall / 2, kWall / 2, kRes - kWall, kRes - kWall));
    p.setPen(Qt::NoPen);
    p.setBrush(QColor(255, 210, 50));
    for (const auto& c : coins_) {
      if (c.taken) continue;
      QPolygonF diamond;
      diamond << QPointF(c.x, c.y - c.r) << QPointF(c.x + c.r, c.y) << QPointF(c.x, c.y + c.r)
              << QPointF(c.x - c.r, c.y);
      p.drawPolygon(diamond);
    }
    p.setPen(QPen(QColor(90, 0, 0), 0.8));
    p.setBrush(QColor(230, 50, 40));
    for (const auto& h : hazards_) p.drawEllipse(QPointF(h.x, h.y), h.r, h.r);
    p.setPen(QPen(QColor(255, 255, 255), 1.0));
    p.setBrush(QColor(60, 140, 255));
    p.drawEllipse(QPointF(ax_, ay_), kAgentR, kAgentR);
  }

 private:
  struct Body {
    double x = 0, y = 0, vx = 0, vy = 0, r = 1;
    bool taken = false;
  };
  static constexpr double kWall = 2.0;
  static constexpr double kAgentR = 2.8;
  static constexpr double kSpeed = 1.5;

  static double Dist(double x0, double y0, double x1, double y1) { return std::hypot(x0 - x1, y0 - y1); }
  static double Clamp(double v, double lo, double hi) { return v < lo ? lo : (v > hi ? hi : v); }

  double ax_ = 0, ay_ = 0;
  std::vector<Body> hazards_;
  std::vector<Body> coins_;
};

}  // namespace envpool::procgen
