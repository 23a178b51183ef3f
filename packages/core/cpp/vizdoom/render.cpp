// Rendering of the DoomNav tasks: a column raycaster over the level's lines (see engine.h).
#include "engine.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine_detail.h"

namespace envpool::vizdoom {
using namespace detail;  // NOLINT(build/namespaces): this file's constants

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
