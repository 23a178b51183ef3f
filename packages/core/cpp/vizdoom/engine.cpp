// Movement and line specials of the DoomNav tasks: one World per env (see engine.h).
#include "engine.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "engine_detail.h"

namespace envpool::vizdoom {
using namespace detail;  // NOLINT(build/namespaces): this file's constants

// ------------------------------------------------------------------ World

World::World(std::shared_ptr<const Level> level) : level_(std::move(level)) {
}

double World::angle_deg() const {
  double d = angle_ * 180 / kPi;
  d = std::fmod(d, 360.0);
  return d < 0 ? d + 360 : d;
}

void World::Reset(double x, double y, double angle_deg) {
  floor_.clear();
  ceil_.clear();
  for (const auto& s : level_->sectors) {
    floor_.push_back(s.floor);
    ceil_.push_back(s.ceil);
  }
  doors_.clear();
  lifts_.clear();
  items.clear();
  health = 100;
  tic_ = 0;
  exited_ = false;
  Place(x, y, angle_deg);
}

void World::Place(double x, double y, double angle_deg) {
  x_ = x;
  y_ = y;
  angle_ = angle_deg * kPi / 180;
  vx_ = vy_ = 0;
  int s = SectorAt(x, y);
  z_ = s >= 0 ? Floor(s) : 0;
}

int World::SectorAt(double x, double y) const {
  const auto& L = level_->lines;
  double best = 1e18;
  int best_line = -1;
  for (std::size_t i = 0; i < L.size(); ++i) {
    const auto& l = L[i];
    if ((l.a.y > y) == (l.b.y > y) || l.maxx < x) continue;
    double ix = l.a.x + (y - l.a.y) * (l.b.x - l.a.x) / (l.b.y - l.a.y);
    if (ix >= x && ix < best) {
      best = ix;
      best_line = static_cast<int>(i);
    }
  }
  if (best_line < 0) return -1;
  const auto& l = L[static_cast<std::size_t>(best_line)];
  bool front = Cross(l.b.x - l.a.x, l.b.y - l.a.y, x - l.a.x, y - l.a.y) <= 0;
  int side = front ? l.front : l.back;
  if (side < 0) return -1;  // outside the map
  return level_->sides[static_cast<std::size_t>(side)].sector;
}

bool World::CheckPosition(double x, double y, double* floorz, double* ceilz) const {
  int s = SectorAt(x, y);
  if (s < 0) return false;
  double fz = Floor(s), cz = Ceil(s);
  const double x0 = x - kRadius, x1 = x + kRadius, y0 = y - kRadius, y1 = y + kRadius;
  bool ok = true;
  for (const auto& l : level_->lines) {
    if (l.maxx <= x0 || l.minx >= x1 || l.maxy <= y0 || l.miny >= y1) continue;
    const double ex = l.b.x - l.a.x, ey = l.b.y - l.a.y;
    double c[4] = {Cross(ex, ey, x0 - l.a.x, y0 - l.a.y), Cross(ex, ey, x1 - l.a.x, y0 - l.a.y),
                   Cross(ex, ey, x0 - l.a.x, y1 - l.a.y), Cross(ex, ey, x1 - l.a.x, y1 - l.a.y)};
    bool pos = false, neg = false;
    for (double v : c) {
      pos = pos || v > 0;
      neg = neg || v < 0;
    }
    if (!(pos && neg)) continue;  // the box is on one side of the line
    if (l.back < 0 || (l.flags & 1)) {
      ok = false;
      continue;
    }
    int f = level_->sides[static_cast<std::size_t>(l.front)].sector;
    int b = level_->sides[static_cast<std::size_t>(l.back)].sector;
    cz = std::min(cz, std::min(Ceil(f), Ceil(b)));
    fz = std::max(fz, std::max(Floor(f), Floor(b)));
  }
  *floorz = fz;
  *ceilz = cz;
  if (!ok) return false;
  if (cz - fz < kHeight) return false;      // does not fit
  if (cz - z_ < kHeight) return false;      // would hit the ceiling
  if (fz - z_ > kMaxStep) return false;     // step too high
  return true;
}

bool World::Fits(double x, double y) const {
  double f, c;
  return CheckPosition(x, y, &f, &c);
}

bool World::TryMove(double nx, double ny) {
  double fz, cz;
  if (!CheckPosition(nx, ny, &fz, &cz)) return false;
  const double ox = x_, oy = y_;
  x_ = nx;
  y_ = ny;
  z_ = fz;
  CrossSpecials(ox, oy);
  return true;
}

void World::Move() {
  vx_ = std::clamp(vx_, -kMaxMove, kMaxMove);
  vy_ = std::clamp(vy_, -kMaxMove, kMaxMove);
  const int n = std::max(1, static_cast<int>(std::ceil(std::max(std::fabs(vx_), std::fabs(vy_)) / 8)));
  for (int i = 0; i < n; ++i) {
    const double dx = vx_ / n, dy = vy_ / n;
    if (dx == 0 && dy == 0) return;
    if (TryMove(x_ + dx, y_ + dy)) continue;
    // Slide along one axis (Doom's fallback "stairstep" when the full move is blocked).
    if (dx != 0 && TryMove(x_ + dx, y_)) {
      vy_ = 0;
      continue;
    }
    if (dy != 0 && TryMove(x_, y_ + dy)) {
      vx_ = 0;
      continue;
    }
    vx_ = vy_ = 0;
    return;
  }
}

void World::CrossSpecials(double ox, double oy) {
  for (int li : level_->special_lines) {
    const auto& l = level_->lines[static_cast<std::size_t>(li)];
    if (!(WalkTagDoor(l.special) || WalkExit(l.special) || WalkTeleport(l.special) || WalkLift(l.special))) continue;
    const double ex = l.b.x - l.a.x, ey = l.b.y - l.a.y;
    const double s0 = Cross(ex, ey, ox - l.a.x, oy - l.a.y), s1 = Cross(ex, ey, x_ - l.a.x, y_ - l.a.y);
    if ((s0 < 0) == (s1 < 0)) continue;
    // the move segment must cross the line segment itself
    const double mx = x_ - ox, my = y_ - oy;
    const double t0 = Cross(mx, my, l.a.x - ox, l.a.y - oy), t1 = Cross(mx, my, l.b.x - ox, l.b.y - oy);
    if ((t0 < 0) == (t1 < 0) && t0 != 0 && t1 != 0) continue;
    if (WalkTeleport(l.special) && !(s0 < 0)) continue;  // teleports only from the front side
    Activate(li, false);
  }
}

void World::OpenDoor(int sector, double speed) {
  const auto& s = level_->sectors[static_cast<std::size_t>(sector)];
  for (const auto& d : doors_)
    if (d.sector == sector) return;
  if (Ceil(sector) >= s.door_top) return;
  doors_.push_back(Door{sector, s.door_top, speed});
}

void World::LowerLift(int sector, double speed) {
  for (const auto& l : lifts_)
    if (l.sector == sector) return;
  const double low = level_->sectors[static_cast<std::size_t>(sector)].lift_low;
  if (low >= Floor(sector)) return;
  lifts_.push_back(Lift{sector, low, Floor(sector), speed, 105, true});  // waits 3 s at the bottom
}

// Doors rise and stay open; lifts go down, wait 3 s and come back up (Doom's "down-wait-up-stay").
void World::RunMovers() {
  for (auto it = doors_.begin(); it != doors_.end();) {
    auto& c = ceil_[static_cast<std::size_t>(it->sector)];
    c = std::min(it->target, c + it->speed);
    it = c >= it->target ? doors_.erase(it) : it + 1;
  }
  bool moved = false;
  for (auto it = lifts_.begin(); it != lifts_.end();) {
    auto& f = floor_[static_cast<std::size_t>(it->sector)];
    moved = true;
    if (it->down) {
      f = std::max(it->low, f - it->speed);
      if (f <= it->low) it->down = false;
    } else if (it->wait > 0) {
      --it->wait;
    } else {
      f = std::min(it->high, f + it->speed);
      if (f >= it->high) {
        it = lifts_.erase(it);
        continue;
      }
    }
    ++it;
  }
  if (moved) {  // the player rides the floor under it
    double fz, cz;
    CheckPosition(x_, y_, &fz, &cz);
    z_ = fz;
  }
}

void World::Activate(int li, bool use) {
  const auto& l = level_->lines[static_cast<std::size_t>(li)];
  const double speed = Blazing(l.special) ? 8 : 2;
  if (use) {
    if (UseLocalDoor(l.special) && l.back >= 0) OpenDoor(level_->sides[static_cast<std::size_t>(l.back)].sector, speed);
    if (UseExit(l.special)) exited_ = true;
  } else {
    if (WalkExit(l.special)) exited_ = true;
    if (WalkTeleport(l.special)) {
      for (const auto& t : level_->things) {
        if (t.type != 14) continue;
        int s = SectorAt(t.x, t.y);
        if (s < 0 || level_->sectors[static_cast<std::size_t>(s)].tag != l.tag) continue;
        Place(t.x, t.y, t.angle);
        return;
      }
    }
  }
  if ((use && UseTagDoor(l.special)) || (!use && WalkTagDoor(l.special))) {
    if (l.tag == 0) return;
    for (std::size_t s = 0; s < level_->sectors.size(); ++s)
      if (level_->sectors[s].tag == l.tag) OpenDoor(static_cast<int>(s), speed);
  }
  if ((use && UseLift(l.special)) || (!use && WalkLift(l.special))) {
    if (l.tag == 0) return;
    for (std::size_t s = 0; s < level_->sectors.size(); ++s)
      if (level_->sectors[s].tag == l.tag) LowerLift(static_cast<int>(s), Blazing(l.special) ? 8 : 4);
  }
}

void World::AutoUse() {
  const double dx = std::cos(angle_) * kUseRange, dy = std::sin(angle_) * kUseRange;
  const double x0 = std::min(x_, x_ + dx), x1 = std::max(x_, x_ + dx), y0 = std::min(y_, y_ + dy),
               y1 = std::max(y_, y_ + dy);
  std::vector<std::pair<double, int>> hits;
  for (std::size_t i = 0; i < level_->lines.size(); ++i) {
    const auto& l = level_->lines[i];
    if (l.maxx < x0 || l.minx > x1 || l.maxy < y0 || l.miny > y1) continue;
    const double ex = l.b.x - l.a.x, ey = l.b.y - l.a.y;
    const double den = Cross(dx, dy, ex, ey);
    if (den == 0) continue;
    const double t = Cross(l.a.x - x_, l.a.y - y_, ex, ey) / den;
    const double s = Cross(l.a.x - x_, l.a.y - y_, dx, dy) / den;
    if (t < 0 || t > 1 || s < 0 || s > 1) continue;
    hits.emplace_back(t, static_cast<int>(i));
  }
  std::sort(hits.begin(), hits.end());
  for (const auto& h : hits) {
    const auto& l = level_->lines[static_cast<std::size_t>(h.second)];
    const bool front = Cross(l.b.x - l.a.x, l.b.y - l.a.y, x_ - l.a.x, y_ - l.a.y) < 0;
    if (IsUse(l.special)) {
      if (front) Activate(h.second, true);
      return;
    }
    if (l.back < 0) return;
    int f = level_->sides[static_cast<std::size_t>(l.front)].sector;
    int b = level_->sides[static_cast<std::size_t>(l.back)].sector;
    if (std::min(Ceil(f), Ceil(b)) - std::max(Floor(f), Floor(b)) <= 0) return;
  }
}

std::vector<int> World::Tic(int action) {
  switch (action) {
    case kTurnLeft:
      angle_ += kTurn;
      break;
    case kTurnRight:
      angle_ -= kTurn;
      break;
    case kForward:
    case kBackward: {
      const double k = action == kForward ? kForwardThrust : -kForwardThrust;
      vx_ += std::cos(angle_) * k;
      vy_ += std::sin(angle_) * k;
      break;
    }
    case kStrafeLeft:
    case kStrafeRight: {
      const double k = action == kStrafeRight ? kSideThrust : -kSideThrust;
      vx_ += std::sin(angle_) * k;
      vy_ -= std::cos(angle_) * k;
      break;
    }
    default:
      break;
  }
  Move();
  vx_ *= kFriction;
  vy_ *= kFriction;
  if (std::fabs(vx_) < 1.0 / 16 && std::fabs(vy_) < 1.0 / 16) vx_ = vy_ = 0;
  AutoUse();
  RunMovers();
  std::vector<int> picked;
  for (auto& it : items) {
    if (!it.alive || std::fabs(it.x - x_) >= kRadius + kItemRadius || std::fabs(it.y - y_) >= kRadius + kItemRadius)
      continue;
    if (it.type == 2012 || it.type == 2011) {
      if (health >= 100) continue;  // Doom leaves health items when health is full
      health = std::min(100, health + (it.type == 2012 ? 25 : 10));
    }
    it.alive = false;
    picked.push_back(it.type);
  }
  ++tic_;
  return picked;
}

void World::AddItem(double x, double y, int type) {
  int s = SectorAt(x, y);
  items.push_back(Item{x, y, s >= 0 ? Floor(s) : 0, type, true});
}

}  // namespace envpool::vizdoom
