// A bounds-checked reader for Doom WAD files: the lump directory, maps in the classic Doom,
// Hexen and UDMF (TEXTMAP) formats, the palette, wall textures, flats and pictures.
//
// Every failure throws WadError (a std::invalid_argument, i.e. a Python ValueError) naming the
// file and the lump. Nothing here trusts a count or an offset read from the file: each read is
// checked against the lump it comes from and every allocation is bounded by the file size.
// No Python or nanobind dependency, so the sanitizer driver (tools/wad/sanitize.py) can build it alone.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace envpool::vizdoom {

struct WadError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

struct LumpInfo {
  std::string name;
  std::int64_t offset = 0;
  std::int64_t size = 0;
};

// A whole WAD file in memory with its validated directory.
class WadFile {
 public:
  explicit WadFile(const std::string& path);
  // A WAD held in memory; `name` stands for the file in error messages.
  WadFile(const std::string& name, std::vector<std::uint8_t> data);

  const std::string& path() const { return path_; }
  const std::string& kind() const { return kind_; }  // "IWAD" or "PWAD"
  const std::vector<LumpInfo>& lumps() const { return lumps_; }
  std::size_t file_size() const { return data_.size(); }

  // Index of the last lump named `name` in [begin, end), or -1.
  int Find(const std::string& name, int begin = 0, int end = -1) const;
  const std::uint8_t* Data(int index) const;
  std::size_t Size(int index) const;

  // Throws WadError "<file>: lump '<name>' (#index): <message>".
  [[noreturn]] void Fail(int index, const std::string& message) const;
  [[noreturn]] void FailNamed(const std::string& lump, const std::string& message) const;

 private:
  void ReadDirectory();
  std::string path_;
  std::string kind_;
  std::vector<std::uint8_t> data_;
  std::vector<LumpInfo> lumps_;
};

struct Vertex {
  double x = 0, y = 0;
};

struct SectorDef {
  double floor = 0, ceil = 0;
  std::string floor_tex, ceil_tex;
  int light = 160;
  int special = 0;
  int tag = 0;
};

struct SideDef {
  double xoff = 0, yoff = 0;
  std::string upper, lower, middle;
  int sector = 0;
};

struct LineDef {
  int v1 = 0, v2 = 0;
  int flags = 0;  // Doom flag bits (1 impassable, 4 two-sided, 8 upper unpegged, 16 lower unpegged)
  int special = 0;
  int tag = 0;  // Doom: sector tag; Hexen/UDMF: arg0
  std::array<int, 5> args{};
  int front = -1, back = -1;  // sidedef indices, -1 if none
  bool Blocking() const { return (flags & 1) != 0; }
};

struct ThingDef {
  double x = 0, y = 0;
  double angle = 0;  // degrees
  int type = 0;
  int flags = 0;
  int tid = 0;
};

enum class MapFormat { kDoom, kHexen, kUdmf };
const char* MapFormatName(MapFormat f);

struct MapData {
  std::string name;
  MapFormat format = MapFormat::kDoom;
  std::vector<ThingDef> things;
  std::vector<LineDef> lines;
  std::vector<SideDef> sides;
  std::vector<Vertex> vertexes;
  std::vector<SectorDef> sectors;
};

// Indices of the map marker lumps (a lump followed by THINGS or TEXTMAP).
std::vector<int> FindMaps(const WadFile& wad);
// Parses the map whose marker lump is `marker`; validates every cross reference.
MapData ParseMap(const WadFile& wad, int marker);

using Palette = std::array<std::uint8_t, 768>;
Palette ReadPalette(const WadFile& wad);

// A picture (patch or sprite) or a composed texture: column-major palette indices plus an
// opacity mask (1 = drawn).
struct Picture {
  int width = 0, height = 0;
  int left = 0, top = 0;  // offsets
  std::vector<std::uint8_t> index;
  std::vector<std::uint8_t> opaque;
};
Picture DecodePicture(const WadFile& wad, int lump);

struct TexturePatch {
  int x = 0, y = 0;
  int lump = -1;  // lump index of the patch
};
struct TextureDef {
  std::string name;
  int width = 0, height = 0;
  std::vector<TexturePatch> patches;
};
// Every texture of TEXTURE1 and TEXTURE2 (later definitions win), keyed by upper-case name.
// Checks that each patch exists; an empty map if the WAD has no TEXTURE1.
std::map<std::string, TextureDef> ReadTextures(const WadFile& wad);
Picture ComposeTexture(const WadFile& wad, const TextureDef& def);

// Lump index of flat `name` (searched between F_START/FF_START and F_END/FF_END), or -1.
int FindFlat(const WadFile& wad, const std::string& name);
// The mean RGB of a 64x64 flat.
std::array<std::uint8_t, 3> FlatColor(const WadFile& wad, int lump, const Palette& pal);

}  // namespace envpool::vizdoom
