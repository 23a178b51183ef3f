// Level loading for the DoomNav tasks: textures, sprites and map geometry from the WADs (see engine.h).
#include "engine.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <set>
#include <utility>

namespace envpool::vizdoom {
namespace {

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

}  // namespace envpool::vizdoom
