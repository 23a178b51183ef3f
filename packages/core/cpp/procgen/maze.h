// Game "maze": a procedurally generated perfect maze (randomised depth-first search) that the agent,
// starting in the bottom-left cell, must solve to reach the goal placed far from it (in the
// farther half of the maze by path length). Reward 10 and the episode ends on reaching the goal;
// otherwise the episode is truncated after 500 steps. easy: 5x5..11x11 grids, one palette;
// hard: 5x5..25x25 grids, a palette per level.
#pragma once

#include <QtCore/QPointF>
#include <QtCore/QRectF>
#include <QtGui/QPainterPath>
#include <QtGui/QPolygonF>

#include <algorithm>
#include <cmath>
#include <deque>
#include <utility>
#include <vector>

#include "game.h"

namespace envpool::procgen {

class Maze : public Game {
 public:
  static constexpr int kMaxSteps = 500;
  static constexpr double kGoalReward = 10.0;

  explicit Maze(const LevelOptions& o) : Game(o) {}
  static EnvSpec Spec() { return GameSpec(kMaxSteps); }

 protected:
  void NewLevel() override {
    PickPalette();
    const int k = hard() ? level().Range(2, 12) : level().Range(2, 5);
    size_ = 2 * k + 1;  // cells at odd coordinates, walls between them
    wall_.assign(static_cast<std::size_t>(size_ * size_), true);
    Carve();
    ax_ = 1;
    ay_ = size_ - 2;
    PlaceGoal();
  }

  StepOutcome Update(Move m) override {
    // Each component of a diagonal move is applied on its own, so the agent slides along walls.
    if (m.dx != 0 && !Wall(ax_ + m.dx, ay_)) ax_ += m.dx;
    if (m.dy != 0 && !Wall(ax_, ay_ - m.dy)) ay_ -= m.dy;  // y up in actions, down in the grid
    StepOutcome r;
    if (ax_ == gx_ && ay_ == gy_) {
      r.reward = kGoalReward;
      r.terminated = true;
    }
    return r;
  }

  void Draw(QPainter& p) override {
    const double c = static_cast<double>(kRes) / size_;
    p.fillRect(QRectF(0, 0, kRes, kRes), LevelColor(0, 40, 230));
    p.setPen(Qt::NoPen);
    // Walls on whole pixels without antialiasing, so neighbouring wall cells join without seams.
    p.setRenderHint(QPainter::Antialiasing, false);
    const QColor wall = LevelColor(0, 170, 90);
    auto edge = [c](int i) { return static_cast<int>(std::lround(i * c)); };
    for (int y = 0; y < size_; ++y)
      for (int x = 0; x < size_; ++x)
        if (Wall(x, y)) p.fillRect(edge(x), edge(y), edge(x + 1) - edge(x), edge(y + 1) - edge(y), wall);
    p.setRenderHint(QPainter::Antialiasing, true);
    // Goal: a yellow wedge of cheese (a whole yellow cell when cells are only a few pixels wide).
    p.setBrush(QColor(250, 205, 40));
    if (c < 5.0) {
      p.fillRect(edge(gx_), edge(gy_), edge(gx_ + 1) - edge(gx_), edge(gy_ + 1) - edge(gy_), QColor(250, 205, 40));
    } else {
      QPolygonF wedge;
      wedge << QPointF((gx_ + 0.1) * c, (gy_ + 0.85) * c) << QPointF((gx_ + 0.9) * c, (gy_ + 0.85) * c)
            << QPointF((gx_ + 0.9) * c, (gy_ + 0.15) * c);
      p.drawPolygon(wedge);
    }
    // Agent: a grey mouse, body and two ears (a dark dot filling its cell on small cells).
    if (c < 5.0) {
      p.setBrush(QColor(40, 30, 30));
      p.drawEllipse(QPointF((ax_ + 0.5) * c, (ay_ + 0.5) * c), 0.6 * c, 0.6 * c);
    } else {
      p.setBrush(QColor(110, 100, 100));
      p.drawEllipse(QPointF((ax_ + 0.5) * c, (ay_ + 0.58) * c), 0.36 * c, 0.34 * c);
      p.drawEllipse(QPointF((ax_ + 0.26) * c, (ay_ + 0.24) * c), 0.16 * c, 0.16 * c);
      p.drawEllipse(QPointF((ax_ + 0.74) * c, (ay_ + 0.24) * c), 0.16 * c, 0.16 * c);
    }
  }

 private:
  bool Wall(int x, int y) const {
    if (x < 0 || y < 0 || x >= size_ || y >= size_) return true;
    return wall_[static_cast<std::size_t>(y * size_ + x)];
  }
  void Open(int x, int y) { wall_[static_cast<std::size_t>(y * size_ + x)] = false; }

  // Randomised depth-first search over the odd cells, knocking down the wall between neighbours.
  void Carve() {
    static constexpr int kDirs[4][2] = {{2, 0}, {-2, 0}, {0, 2}, {0, -2}};
    std::vector<std::pair<int, int>> stack = {{1, size_ - 2}};
    Open(1, size_ - 2);
    while (!stack.empty()) {
      auto [x, y] = stack.back();
      int options[4];
      int n = 0;
      for (int d = 0; d < 4; ++d) {
        int nx = x + kDirs[d][0], ny = y + kDirs[d][1];
        if (nx > 0 && ny > 0 && nx < size_ - 1 && ny < size_ - 1 && Wall(nx, ny)) options[n++] = d;
      }
      if (n == 0) {
        stack.pop_back();
        continue;
      }
      int d = options[level().Int(n)];
      int nx = x + kDirs[d][0], ny = y + kDirs[d][1];
      Open(x + kDirs[d][0] / 2, y + kDirs[d][1] / 2);
      Open(nx, ny);
      stack.emplace_back(nx, ny);
    }
  }

  // The goal is a random cell among those at least half the longest path length from the start.
  void PlaceGoal() {
    std::vector<int> dist(static_cast<std::size_t>(size_ * size_), -1);
    std::deque<std::pair<int, int>> queue = {{ax_, ay_}};
    dist[static_cast<std::size_t>(ay_ * size_ + ax_)] = 0;
    int far = 0;
    while (!queue.empty()) {
      auto [x, y] = queue.front();
      queue.pop_front();
      const int dxy[4][2] = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
      for (const auto& d : dxy) {
        int nx = x + d[0], ny = y + d[1];
        if (Wall(nx, ny)) continue;
        auto& nd = dist[static_cast<std::size_t>(ny * size_ + nx)];
        if (nd >= 0) continue;
        nd = dist[static_cast<std::size_t>(y * size_ + x)] + 1;
        far = std::max(far, nd);
        queue.emplace_back(nx, ny);
      }
    }
    std::vector<std::pair<int, int>> candidates;
    for (int y = 1; y < size_; y += 2)
      for (int x = 1; x < size_; x += 2)
        if (dist[static_cast<std::size_t>(y * size_ + x)] * 2 >= far && !(x == ax_ && y == ay_))
          candidates.emplace_back(x, y);
    auto goal = candidates[static_cast<std::size_t>(level().Int(static_cast<int>(candidates.size())))];
    gx_ = goal.first;
    gy_ = goal.second;
  }

  int size_ = 5;
  std::vector<bool> wall_;
  int ax_ = 1, ay_ = 1, gx_ = 1, gy_ = 1;
};

}  // namespace envpool::procgen
