// Extension module envpool._vizdoom: the DoomNav tasks and a WAD reader API for tests.
#include <set>
#include <string>

#include "../engine/bindings.h"
#include "tasks.h"
#include "wad.h"

namespace envpool::vizdoom {
namespace {

namespace nb = nanobind;

// Everything the reader validates, as plain Python data (compared against omgifol in the tests).
nb::dict ReadWad(const std::string& path) {
  WadFile wad(path);
  nb::dict out;
  out["path"] = path;
  out["kind"] = wad.kind();
  nb::list lumps;
  for (const auto& l : wad.lumps()) lumps.append(nb::make_tuple(l.name, l.offset, l.size));
  out["lumps"] = lumps;
  nb::dict maps;
  for (int marker : FindMaps(wad)) {
    MapData m = ParseMap(wad, marker);
    nb::dict d;
    d["format"] = MapFormatName(m.format);
    d["things"] = m.things.size();
    d["linedefs"] = m.lines.size();
    d["sidedefs"] = m.sides.size();
    d["vertexes"] = m.vertexes.size();
    d["sectors"] = m.sectors.size();
    nb::list vx, th, ln, sc;
    for (const auto& v : m.vertexes) vx.append(nb::make_tuple(v.x, v.y));
    for (const auto& t : m.things) th.append(nb::make_tuple(t.x, t.y, t.type));
    for (const auto& l : m.lines) ln.append(nb::make_tuple(l.v1, l.v2, l.front, l.back, l.special));
    for (const auto& s : m.sectors) sc.append(nb::make_tuple(s.floor, s.ceil, s.light));
    d["vertex_xy"] = vx;
    d["thing_xyt"] = th;
    d["linedef_refs"] = ln;
    d["sector_heights"] = sc;
    maps[nb::str(m.name.c_str())] = d;
  }
  out["maps"] = maps;
  out["palette"] = wad.Find("PLAYPAL") >= 0;
  if (wad.Find("PLAYPAL") >= 0) ReadPalette(wad);
  auto textures = ReadTextures(wad);
  std::set<int> patches;
  for (const auto& kv : textures)
    for (const auto& p : kv.second.patches) patches.insert(p.lump);
  for (int p : patches) DecodePicture(wad, p);  // validates every patch a texture uses
  out["textures"] = textures.size();
  return out;
}

}  // namespace
}  // namespace envpool::vizdoom

NB_MODULE(_vizdoom, m) {
  m.doc() = "envpool vizdoom family: DoomNav navigation tasks on Doom maps, our own engine (not ViZDoom)";
  envpool::BindFamily(m, envpool::Family{&envpool::vizdoom::TaskSpec, &envpool::vizdoom::MakeTask});
  m.def("read_wad", &envpool::vizdoom::ReadWad, nanobind::arg("path"),
        "Parse and validate a WAD file; returns its kind, lump directory, maps and texture count. "
        "Raises ValueError naming the file and the lump on malformed input.");
}
