// Level loading, movement and rendering for the DoomNav tasks (see engine.h).
#include "engine.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <set>
#include <utility>

namespace envpool::vizdoom {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kRadius = 16;        // player radius
constexpr double kHeight = 56;        // player height
constexpr double kViewHeight = 41;    // eye above the floor
constexpr double kMaxStep = 24;       // highest step the player climbs
constexpr double kUseRange = 64;      // reach of the automatic "use"
constexpr double kItemRadius = 20;    // pickup radius of items
constexpr double kFriction = 0.90625;               // 0xE800 / 0x10000 per tic
constexpr double kForwardThrust = 25 * 2048 / 65536.0;  // walking forwardmove, per tic
constexpr double kSideThrust = 24 * 2048 / 65536.0;     // walking sidemove, per tic
constexpr double kTurn = 640 / 65536.0 * 2 * kPi;       // walking angleturn, per tic
constexpr double kMaxMove = 30;
constexpr double kNear = 1.0;

double Cross(double ax, double ay, double bx, double by) { return ax * by - ay * bx; }

// ---- line special tables (classic Doom numbering)
bool In(int v, std::initializer_list<int> s) { return std::find(s.begin(), s.end(), v) != s.end(); }
bool UseLocalDoor(int s) { return In(s, {1, 26, 27, 28, 31, 32, 33, 34, 117, 118}); }
bool UseTagDoor(int s) { return In(s, {29, 61, 63, 103, 111, 112, 114, 115}); }
bool UseExit(int s) { return In(s, {11, 51}); }
bool WalkTagDoor(int s) { return In(s, {2, 4, 86, 90, 105, 106, 108, 109}); }
bool WalkExit(int s) { return In(s, {52, 124}); }
bool WalkTeleport(int s) { return In(s, {39, 97, 125, 126}); }
bool UseLift(int s) { return In(s, {21, 62, 122, 123}); }
bool WalkLift(int s) { return In(s, {10, 88, 120, 121}); }
bool Blazing(int s) { return In(s, {117, 118, 111, 112, 114, 115, 105, 106, 108, 109, 120, 121, 122, 123}); }
bool IsUse(int s) { return UseLocalDoor(s) || UseTagDoor(s) || UseExit(s) || UseLift(s); }

const char* SpriteLump(int type) {
  switch (type) {
    case 2011:
      return "STIMA0";
    case 2012:
      return "MEDIA0";
    case 2018:
      return "ARM1A0";
    case 2019:
      return "ARM2A0";
    default:
      return nullptr;
  }
}

RgbPicture ToRgb(const Picture& p, const Palette& pal) {
  RgbPicture r;
  r.width = p.width;
  r.height = p.height;
  r.left = p.left;
  r.top = p.top;
  r.opaque = p.opaque;
  r.rgb.resize(p.index.size() * 3);
  for (std::size_t i = 0; i < p.index.size(); ++i)
    for (std::size_t c = 0; c < 3; ++c) r.rgb[i * 3 + c] = pal[static_cast<std::size_t>(p.index[i]) * 3 + c];
  return r;
}

std::shared_ptr<const Level> BuildLevel(const std::string& resource_wad, const std::string& map_wad,
                                        const std::string& map_name, const std::vector<int>& sprite_types) {
  auto res = std::make_shared<WadFile>(resource_wad);
  std::shared_ptr<WadFile> mw = map_wad == resource_wad ? res : std::make_shared<WadFile>(map_wad);
  const Palette pal = ReadPalette(*res);
  int marker = -1;
  for (int m : FindMaps(*mw))
    if (mw->lumps()[static_cast<std::size_t>(m)].name == map_name) marker = m;
  if (marker < 0) mw->FailNamed(map_name, "the file has no map " + map_name);
  MapData md = ParseMap(*mw, marker);

  auto lv = std::make_shared<Level>();
  lv->map_name = md.name;
  lv->format = md.format;
  lv->things = md.things;

  std::map<std::string, Rgb> flat_cache;
  auto flat = [&](const std::string& name) {
    auto it = flat_cache.find(name);
    if (it != flat_cache.end()) return it->second;
    int l = FindFlat(*res, name);
    Rgb c = l >= 0 ? FlatColor(*res, l, pal) : Rgb{96, 96, 96};
    flat_cache[name] = c;
    return c;
  };
  for (const auto& s : md.sectors) {
    LevelSector ls;
    ls.floor = s.floor;
    ls.ceil = s.ceil;
    ls.light = std::clamp(s.light, 0, 255);
    ls.special = s.special;
    ls.tag = s.tag;
    ls.floor_rgb = flat(s.floor_tex);
    ls.ceil_rgb = flat(s.ceil_tex);
    ls.sky = s.ceil_tex == "F_SKY1";
    lv->sectors.push_back(ls);
  }

  const auto defs = ReadTextures(*res);
  std::map<std::string, int> tex_index;
  auto tex = [&](const std::string& name) {
    if (name.empty() || name == "-") return -1;
    auto it = tex_index.find(name);
    if (it != tex_index.end()) return it->second;
    auto d = defs.find(name);
    int idx = -1;
    if (d != defs.end()) {
      idx = static_cast<int>(lv->textures.size());
      lv->textures.push_back(ToRgb(ComposeTexture(*res, d->second), pal));
    } else if (int f = FindFlat(*res, name); f >= 0 && res->Size(f) >= 4096) {
      // ZDoom lets walls use flats (the scenario maps do): a 64x64 texture from the flat
      Picture p;
      p.width = p.height = 64;
      p.index.resize(4096);
      p.opaque.assign(4096, 1);
      const std::uint8_t* fd = res->Data(f);
      for (int x = 0; x < 64; ++x)
        for (int y = 0; y < 64; ++y) p.index[static_cast<std::size_t>(x * 64 + y)] = fd[y * 64 + x];
      idx = static_cast<int>(lv->textures.size());
      lv->textures.push_back(ToRgb(p, pal));
    }
    tex_index[name] = idx;
    return idx;
  };
  for (const auto& s : md.sides) {
    LevelSide ls;
    ls.upper = tex(s.upper);
    ls.lower = tex(s.lower);
    ls.middle = tex(s.middle);
    ls.xoff = s.xoff;
    ls.yoff = s.yoff;
    ls.sector = s.sector;
    lv->sides.push_back(ls);
  }
  for (std::size_t i = 0; i < md.lines.size(); ++i) {
    const LineDef& l = md.lines[i];
    LevelLine ll;
    ll.a = md.vertexes[static_cast<std::size_t>(l.v1)];
    ll.b = md.vertexes[static_cast<std::size_t>(l.v2)];
    ll.len = std::hypot(ll.b.x - ll.a.x, ll.b.y - ll.a.y);
    ll.minx = std::min(ll.a.x, ll.b.x);
    ll.maxx = std::max(ll.a.x, ll.b.x);
    ll.miny = std::min(ll.a.y, ll.b.y);
    ll.maxy = std::max(ll.a.y, ll.b.y);
    ll.flags = l.flags;
    ll.special = md.format == MapFormat::kDoom ? l.special : 0;  // Hexen/UDMF specials are not simulated
    ll.tag = l.tag;
    ll.front = l.front;
    ll.back = l.back;
    if (ll.special != 0) lv->special_lines.push_back(static_cast<int>(i));
    lv->lines.push_back(ll);
  }
  // Where a door stops: the lowest neighbouring ceiling minus 4 (as in Doom).
  for (auto& s : lv->sectors) {
    s.door_top = 1e9;
    s.lift_low = s.floor;
  }
  for (const auto& l : lv->lines) {
    if (l.back < 0) continue;
    int f = lv->sides[static_cast<std::size_t>(l.front)].sector, b = lv->sides[static_cast<std::size_t>(l.back)].sector;
    auto& sf = lv->sectors[static_cast<std::size_t>(f)];
    auto& sb = lv->sectors[static_cast<std::size_t>(b)];
    sf.door_top = std::min(sf.door_top, sb.ceil - 4);
    sb.door_top = std::min(sb.door_top, sf.ceil - 4);
    sf.lift_low = std::min(sf.lift_low, sb.floor);
    sb.lift_low = std::min(sb.lift_low, sf.floor);
  }
  for (auto& s : lv->sectors)
    if (s.door_top > 1e8) s.door_top = s.ceil;

  for (int type : sprite_types) {
    const char* name = SpriteLump(type);
    if (name == nullptr) continue;
    int ss = res->Find("S_START"), se = res->Find("S_END");
    int l = ss >= 0 && se > ss ? res->Find(name, ss, se) : res->Find(name);
    if (l < 0) res->FailNamed(name, "sprite for thing type " + std::to_string(type) + " is missing");
    lv->sprites.emplace_back(type, ToRgb(DecodePicture(*res, l), pal));
  }
  auto sky = defs.find("SKY1");
  if (sky != defs.end()) {
    Picture p = ComposeTexture(*res, sky->second);
    std::array<std::uint64_t, 3> sum{};
    for (auto i : p.index)
      for (std::size_t c = 0; c < 3; ++c) sum[c] += pal[static_cast<std::size_t>(i) * 3 + c];
    for (std::size_t c = 0; c < 3; ++c) lv->sky[c] = static_cast<std::uint8_t>(sum[c] / std::max<std::size_t>(1, p.index.size()));
  } else {
    lv->sky = {100, 140, 200};
  }
  return lv;
}

}  // namespace

const RgbPicture* Level::SpriteOf(int type) const {
  for (const auto& s : sprites)
    if (s.first == type) return &s.second;
  return nullptr;
}

std::shared_ptr<const Level> LoadLevel(const std::string& resource_wad, const std::string& map_wad,
                                       const std::string& map_name, const std::vector<int>& sprite_types) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<const Level>> cache;
  std::string key = resource_wad + '\n' + map_wad + '\n' + map_name;
  for (int t : sprite_types) key += "," + std::to_string(t);
  std::lock_guard<std::mutex> lk(mu);
  if (auto hit = cache[key].lock()) return hit;
  auto lv = BuildLevel(resource_wad, map_wad, map_name, sprite_types);
  cache[key] = lv;
  return lv;
}

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

// ------------------------------------------------------------------ rendering

namespace {

struct Hit {
  int col;
  double depth;
  int line;
  double u;  // distance along the line from its first vertex
  bool front;
};

struct Window {
  double depth;
  int top, bot;
};

inline int Row(double v, int h) { return std::clamp(static_cast<int>(std::ceil(v - 0.5)), 0, h); }

// Doom-like diminishing light: brightness from the sector light, falling with distance.
inline int Shade(int light, double dist) {
  double f = (light + 32) / 255.0 - dist / 2200.0;
  f = std::clamp(f, 0.12, 1.0);
  return static_cast<int>(f * 256);
}

inline void Put(std::uint8_t* px, const std::uint8_t* rgb, int shade) {
  px[0] = static_cast<std::uint8_t>(rgb[0] * shade >> 8);
  px[1] = static_cast<std::uint8_t>(rgb[1] * shade >> 8);
  px[2] = static_cast<std::uint8_t>(rgb[2] * shade >> 8);
}

}  // namespace

void World::Render(std::uint8_t* img, int H, int W) const {
  const auto& lv = *level_;
  const double fx = std::cos(angle_), fy = std::sin(angle_);  // forward
  const double rx = std::sin(angle_), ry = -std::cos(angle_);  // right
  const double half_w = W / 2.0, half_h = H / 2.0, focal = W / 2.0;  // 90 degree horizontal FOV
  const double eye = z_ + kViewHeight;

  std::vector<Hit> hits;
  hits.reserve(static_cast<std::size_t>(W) * 16);
  for (std::size_t i = 0; i < lv.lines.size(); ++i) {
    const auto& l = lv.lines[i];
    double ax = l.a.x - x_, ay = l.a.y - y_, bx = l.b.x - x_, by = l.b.y - y_;
    double da = ax * fx + ay * fy, db = bx * fx + by * fy;
    if (da < kNear && db < kNear) continue;
    double la = ax * rx + ay * ry, lb = bx * rx + by * ry;
    if (da < kNear) {
      double t = (kNear - da) / (db - da);
      la += (lb - la) * t;
      da = kNear;
    } else if (db < kNear) {
      double t = (kNear - db) / (da - db);
      lb += (la - lb) * t;
      db = kNear;
    }
    double sa = half_w + la / da * focal, sb = half_w + lb / db * focal;
    int c0 = std::max(0, static_cast<int>(std::floor(std::min(sa, sb) - 0.5)));
    int c1 = std::min(W - 1, static_cast<int>(std::ceil(std::max(sa, sb) - 0.5)));
    if (c0 > c1) continue;
    const double ex = l.b.x - l.a.x, ey = l.b.y - l.a.y;
    const bool front = Cross(ex, ey, x_ - l.a.x, y_ - l.a.y) < 0;
    const double px = x_ - l.a.x, py = y_ - l.a.y;
    for (int c = c0; c <= c1; ++c) {
      const double k = (c + 0.5 - half_w) / focal;
      const double dx = fx + k * rx, dy = fy + k * ry;
      const double den = Cross(dx, dy, ex, ey);
      if (den == 0) continue;
      const double t = Cross(-px, -py, ex, ey) / den;
      const double s = Cross(-px, -py, dx, dy) / den;
      if (t < kNear * 0.5 || s < -1e-9 || s > 1 + 1e-9) continue;
      hits.push_back(Hit{c, t, static_cast<int>(i), s * l.len, front});
    }
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return a.col != b.col ? a.col < b.col : a.depth < b.depth;
  });

  std::vector<std::vector<Window>> windows(static_cast<std::size_t>(W));
  std::vector<double> solid(static_cast<std::size_t>(W), 1e18);
  const std::uint8_t black[3] = {0, 0, 0};
  std::size_t hi = 0;
  for (int c = 0; c < W; ++c) {
    int top = 0, bot = H;
    bool closed = false;
    auto pixel = [&](int y) { return img + (static_cast<std::size_t>(y) * W + c) * 3; };
    auto flats = [&](const LevelSector& s, int sector, double yc, double yf) {
      // ceiling rows [top, yc), floor rows [yf, bot)
      const int ce = std::min(Row(yc, H), bot);
      for (int y = top; y < ce; ++y) {
        if (s.sky) {
          Put(pixel(y), lv.sky.data(), 256);
        } else {
          double dist = (Ceil(sector) - eye) * focal / std::max(1e-3, half_h - (y + 0.5));
          Put(pixel(y), s.ceil_rgb.data(), Shade(s.light, std::fabs(dist)));
        }
      }
      const int fs = std::max(Row(yf, H), top);
      for (int y = fs; y < bot; ++y) {
        double dist = (eye - Floor(sector)) * focal / std::max(1e-3, (y + 0.5) - half_h);
        Put(pixel(y), s.floor_rgb.data(), Shade(s.light, std::fabs(dist)));
      }
    };
    auto wall = [&](int tex, double texmid, double yoff, double u, double depth, int light, double y0, double y1) {
      const int a = std::max(Row(y0, H), top), b = std::min(Row(y1, H), bot);
      if (a >= b) return;
      const int shade = Shade(light, depth);
      if (tex < 0) {
        const std::uint8_t grey[3] = {110, 110, 110};
        for (int y = a; y < b; ++y) Put(pixel(y), grey, shade);
        return;
      }
      const RgbPicture& t = lv.textures[static_cast<std::size_t>(tex)];
      int tu = static_cast<int>(std::floor(u)) % t.width;
      if (tu < 0) tu += t.width;
      const std::uint8_t* col = t.rgb.data() + static_cast<std::size_t>(tu) * t.height * 3;
      const double scale = focal / depth;
      for (int y = a; y < b; ++y) {
        double z = eye - (y + 0.5 - half_h) / scale;
        int tv = static_cast<int>(std::floor(texmid - z + yoff)) % t.height;
        if (tv < 0) tv += t.height;
        Put(pixel(y), col + static_cast<std::size_t>(tv) * 3, shade);
      }
    };
    for (; hi < hits.size() && hits[hi].col == c; ++hi) {
      if (closed) continue;
      const Hit& h = hits[hi];
      const auto& l = lv.lines[static_cast<std::size_t>(h.line)];
      int fside = h.front ? l.front : l.back, bside = h.front ? l.back : l.front;
      if (fside < 0) std::swap(fside, bside);
      const LevelSide& fsd = lv.sides[static_cast<std::size_t>(fside)];
      const int fsec = fsd.sector;
      const LevelSector& fs = lv.sectors[static_cast<std::size_t>(fsec)];
      const double scale = focal / h.depth;
      const double yc = half_h - (Ceil(fsec) - eye) * scale, yf = half_h - (Floor(fsec) - eye) * scale;
      flats(fs, fsec, yc, yf);
      const double u = h.u + fsd.xoff;
      if (bside < 0) {
        const int t = fsd.middle;
        double texmid = Ceil(fsec);
        if ((l.flags & 16) && t >= 0) texmid = Floor(fsec) + lv.textures[static_cast<std::size_t>(t)].height;
        wall(t, texmid, fsd.yoff, u, h.depth, fs.light, yc, yf);
        closed = true;
        solid[static_cast<std::size_t>(c)] = h.depth;
        continue;
      }
      const int bsec = lv.sides[static_cast<std::size_t>(bside)].sector;
      const LevelSector& bs = lv.sectors[static_cast<std::size_t>(bsec)];
      const double ybc = half_h - (Ceil(bsec) - eye) * scale, ybf = half_h - (Floor(bsec) - eye) * scale;
      if (Ceil(bsec) < Ceil(fsec)) {
        if (fs.sky && bs.sky) {
          const int a = std::max(Row(yc, H), top), b = std::min(Row(ybc, H), bot);
          for (int y = a; y < b; ++y) Put(pixel(y), lv.sky.data(), 256);
        } else {
          double texmid = Ceil(bsec);
          if (fsd.upper >= 0 && !(l.flags & 8)) texmid += lv.textures[static_cast<std::size_t>(fsd.upper)].height;
          if (l.flags & 8) texmid = Ceil(fsec);
          wall(fsd.upper, texmid, fsd.yoff, u, h.depth, fs.light, yc, ybc);
        }
      }
      if (Floor(bsec) > Floor(fsec)) {
        double texmid = (l.flags & 16) ? Ceil(fsec) : Floor(bsec);
        wall(fsd.lower, texmid, fsd.yoff, u, h.depth, fs.light, ybf, yf);
      }
      top = std::max(top, Row(std::max(yc, ybc), H));
      bot = std::min(bot, Row(std::min(yf, ybf), H));
      windows[static_cast<std::size_t>(c)].push_back(Window{h.depth, top, bot});
      if (top >= bot) {
        closed = true;
        solid[static_cast<std::size_t>(c)] = h.depth;
      }
    }
    if (!closed)
      for (int y = top; y < bot; ++y) Put(pixel(y), black, 256);
  }

  // Items as billboards, far to near, clipped by the walls in front of them.
  std::vector<std::pair<double, const Item*>> order;
  for (const auto& it : items) {
    if (!it.alive) continue;
    const double d = (it.x - x_) * fx + (it.y - y_) * fy;
    if (d > kNear * 4) order.emplace_back(d, &it);
  }
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [d, it] : order) {
    const RgbPicture* sp = lv.SpriteOf(it->type);
    if (sp == nullptr) continue;
    const double lat = (it->x - x_) * rx + (it->y - y_) * ry;
    const double scale = focal / d;
    const double sx = half_w + lat * scale;
    const double x0 = sx - sp->left * scale, ytop = half_h - (it->z + sp->top - eye) * scale;
    int s = SectorAt(it->x, it->y);
    const int shade = Shade(s >= 0 ? lv.sectors[static_cast<std::size_t>(s)].light : 160, d);
    const int c0 = std::max(0, static_cast<int>(std::ceil(x0 - 0.5)));
    const int c1 = std::min(W - 1, static_cast<int>(std::ceil(x0 + sp->width * scale - 0.5)) - 1);
    for (int c = c0; c <= c1; ++c) {
      if (d >= solid[static_cast<std::size_t>(c)]) continue;
      int top = 0, bot = H;
      for (const auto& w : windows[static_cast<std::size_t>(c)]) {
        if (w.depth >= d) break;
        top = w.top;
        bot = w.bot;
      }
      const int tu = std::clamp(static_cast<int>((c + 0.5 - x0) / scale), 0, sp->width - 1);
      const int a = std::max(top, Row(ytop, H)), b = std::min(bot, Row(ytop + sp->height * scale, H));
      for (int y = a; y < b; ++y) {
        const int tv = std::clamp(static_cast<int>((y + 0.5 - ytop) / scale), 0, sp->height - 1);
        const std::size_t k = static_cast<std::size_t>(tu) * sp->height + static_cast<std::size_t>(tv);
        if (!sp->opaque[k]) continue;
        Put(img + (static_cast<std::size_t>(y) * W + c) * 3, sp->rgb.data() + k * 3, shade);
      }
    }
  }
}

}  // namespace envpool::vizdoom
