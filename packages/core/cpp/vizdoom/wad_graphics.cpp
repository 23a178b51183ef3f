// Palette, pictures, textures and flats of the bounds-checked WAD reader (see wad.h).
#include "wad.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>

#include "wad_bytes.h"

namespace envpool::vizdoom {
using namespace detail;  // NOLINT(build/namespaces): the shared byte readers

Palette ReadPalette(const WadFile& wad) {
  int i = wad.Find("PLAYPAL");
  if (i < 0) wad.FailNamed("PLAYPAL", "the file has no palette");
  if (wad.Size(i) < 768) wad.Fail(i, "palette is " + std::to_string(wad.Size(i)) + " bytes, needs 768");
  Palette p;
  std::memcpy(p.data(), wad.Data(i), 768);
  return p;
}

Picture DecodePicture(const WadFile& wad, int lump) {
  const std::uint8_t* d = wad.Data(lump);
  const std::size_t n = wad.Size(lump);
  if (n < 8) wad.Fail(lump, "picture is " + std::to_string(n) + " bytes, its header needs 8");
  Picture pic;
  pic.width = I16(d);
  pic.height = I16(d + 2);
  pic.left = I16(d + 4);
  pic.top = I16(d + 6);
  if (pic.width < 1 || pic.width > kMaxPictureSide || pic.height < 1 || pic.height > kMaxPictureSide)
    wad.Fail(lump, "picture size " + std::to_string(pic.width) + "x" + std::to_string(pic.height) +
                       " is out of range 1..4096");
  if (static_cast<std::size_t>(pic.width) * static_cast<std::size_t>(pic.height) > 256 * n + 65536)
    wad.Fail(lump, "picture size " + std::to_string(pic.width) + "x" + std::to_string(pic.height) +
                       " is implausible for a " + std::to_string(n) + "-byte lump");
  if (8 + 4 * static_cast<std::size_t>(pic.width) > n)
    wad.Fail(lump, "picture column table (" + std::to_string(pic.width) + " columns) extends past the lump");
  const std::size_t cells = static_cast<std::size_t>(pic.width) * static_cast<std::size_t>(pic.height);
  pic.index.assign(cells, 0);
  pic.opaque.assign(cells, 0);
  for (int x = 0; x < pic.width; ++x) {
    std::int64_t pos = static_cast<std::uint32_t>(I32(d + 8 + 4 * x));
    int last_top = -1;
    for (;;) {
      if (pos < 8 || pos >= static_cast<std::int64_t>(n))
        wad.Fail(lump, "picture column " + std::to_string(x) + " reads past the lump (offset " + std::to_string(pos) +
                           ")");
      int top = d[pos];
      if (top == 0xFF) break;
      if (pos + 3 > static_cast<std::int64_t>(n))
        wad.Fail(lump, "picture column " + std::to_string(x) + " post header is truncated");
      if (top <= last_top) top += last_top;  // tall patches: relative offsets
      last_top = top;
      const int len = d[pos + 1];
      if (pos + 4 + len > static_cast<std::int64_t>(n))
        wad.Fail(lump, "picture column " + std::to_string(x) + " post of " + std::to_string(len) +
                           " pixels extends past the lump");
      for (int k = 0; k < len; ++k) {
        int y = top + k;
        if (y >= pic.height) break;
        std::size_t c = static_cast<std::size_t>(x) * static_cast<std::size_t>(pic.height) + static_cast<std::size_t>(y);
        pic.index[c] = d[pos + 3 + k];
        pic.opaque[c] = 1;
      }
      pos += len + 4;
    }
  }
  return pic;
}

std::map<std::string, TextureDef> ReadTextures(const WadFile& wad) {
  std::map<std::string, TextureDef> out;
  int t1 = wad.Find("TEXTURE1");
  if (t1 < 0) return out;
  int pn = wad.Find("PNAMES");
  if (pn < 0) wad.FailNamed("PNAMES", "the file has TEXTURE1 but no PNAMES");
  const std::uint8_t* pd = wad.Data(pn);
  const std::size_t psz = wad.Size(pn);
  if (psz < 4) wad.Fail(pn, "too short for its count");
  const std::int64_t np = I32(pd);
  if (np < 0 || np > static_cast<std::int64_t>((psz - 4) / 8))
    wad.Fail(pn, "patch count " + std::to_string(np) + " does not fit in " + std::to_string(psz) + " bytes");
  std::vector<std::string> pnames;
  for (std::int64_t i = 0; i < np; ++i) pnames.push_back(Name8(pd + 4 + 8 * i));
  // A patch lump is looked up once, preferring the patch namespace (P_START..P_END).
  std::map<std::string, int> patch_lump;
  auto lookup = [&](const std::string& name) {
    auto it = patch_lump.find(name);
    if (it != patch_lump.end()) return it->second;
    int ps = wad.Find("P_START"), pe = wad.Find("P_END");
    int i = (ps >= 0 && pe > ps) ? wad.Find(name, ps, pe) : -1;
    if (i < 0) i = wad.Find(name);
    patch_lump[name] = i;
    return i;
  };
  for (const char* lumpname : {"TEXTURE1", "TEXTURE2"}) {
    int li = wad.Find(lumpname);
    if (li < 0) continue;
    const std::uint8_t* d = wad.Data(li);
    const std::size_t n = wad.Size(li);
    if (n < 4) wad.Fail(li, "too short for its count");
    const std::int64_t nt = I32(d);
    if (nt < 0 || nt > static_cast<std::int64_t>((n - 4) / 4))
      wad.Fail(li, "texture count " + std::to_string(nt) + " does not fit in " + std::to_string(n) + " bytes");
    for (std::int64_t t = 0; t < nt; ++t) {
      const std::int64_t ofs = I32(d + 4 + 4 * t);
      if (ofs < 0 || ofs + 22 > static_cast<std::int64_t>(n))
        wad.Fail(li, "texture #" + std::to_string(t) + " at offset " + std::to_string(ofs) + " is outside the lump");
      const std::uint8_t* e = d + ofs;
      TextureDef def;
      def.name = Name8(e);
      def.width = I16(e + 12);
      def.height = I16(e + 14);
      const int pc = I16(e + 20);
      if (def.width < 1 || def.width > kMaxPictureSide || def.height < 1 || def.height > kMaxPictureSide)
        wad.Fail(li, "texture '" + def.name + "' size " + std::to_string(def.width) + "x" +
                         std::to_string(def.height) + " is out of range 1..4096");
      if (static_cast<std::size_t>(def.width) * static_cast<std::size_t>(def.height) > 256 * wad.file_size())
        wad.Fail(li, "texture '" + def.name + "' size " + std::to_string(def.width) + "x" +
                         std::to_string(def.height) + " is implausible for the file size");
      if (pc < 0 || ofs + 22 + 10 * static_cast<std::int64_t>(pc) > static_cast<std::int64_t>(n))
        wad.Fail(li, "texture '" + def.name + "' patch list (" + std::to_string(pc) + " patches) is outside the lump");
      for (int k = 0; k < pc; ++k) {
        const std::uint8_t* q = e + 22 + 10 * k;
        TexturePatch tp;
        tp.x = I16(q);
        tp.y = I16(q + 2);
        const int idx = I16(q + 4);
        if (idx < 0 || idx >= static_cast<int>(pnames.size()))
          wad.Fail(li, "texture '" + def.name + "' patch " + std::to_string(k) + " uses PNAMES entry " +
                           std::to_string(idx) + " but PNAMES has " + std::to_string(pnames.size()));
        tp.lump = lookup(pnames[static_cast<std::size_t>(idx)]);
        if (tp.lump < 0)
          wad.Fail(li, "texture '" + def.name + "' names patch '" + pnames[static_cast<std::size_t>(idx)] +
                           "' which is not in the file");
        def.patches.push_back(tp);
      }
      out[def.name] = std::move(def);
    }
  }
  return out;
}

Picture ComposeTexture(const WadFile& wad, const TextureDef& def) {
  Picture tex;
  tex.width = def.width;
  tex.height = def.height;
  const std::size_t cells = static_cast<std::size_t>(def.width) * static_cast<std::size_t>(def.height);
  tex.index.assign(cells, 0);
  tex.opaque.assign(cells, 0);
  for (const auto& tp : def.patches) {
    Picture p = DecodePicture(wad, tp.lump);
    for (int x = 0; x < p.width; ++x) {
      const int tx = tp.x + x;
      if (tx < 0 || tx >= tex.width) continue;
      for (int y = 0; y < p.height; ++y) {
        const int ty = tp.y + y;
        if (ty < 0 || ty >= tex.height) continue;
        std::size_t s = static_cast<std::size_t>(x) * static_cast<std::size_t>(p.height) + static_cast<std::size_t>(y);
        if (!p.opaque[s]) continue;
        std::size_t c = static_cast<std::size_t>(tx) * static_cast<std::size_t>(tex.height) + static_cast<std::size_t>(ty);
        tex.index[c] = p.index[s];
        tex.opaque[c] = 1;
      }
    }
  }
  return tex;
}

int FindFlat(const WadFile& wad, const std::string& name) {
  int s = wad.Find("F_START"), e = wad.Find("F_END");
  if (s < 0) s = wad.Find("FF_START");
  if (e < 0) e = wad.Find("FF_END");
  if (s >= 0 && e > s) return wad.Find(name, s + 1, e);
  return -1;
}

std::array<std::uint8_t, 3> FlatColor(const WadFile& wad, int lump, const Palette& pal) {
  if (wad.Size(lump) < 4096) wad.Fail(lump, "flat is " + std::to_string(wad.Size(lump)) + " bytes, needs 4096");
  const std::uint8_t* d = wad.Data(lump);
  std::array<std::uint32_t, 3> sum{};
  for (int i = 0; i < 4096; ++i)
    for (int c = 0; c < 3; ++c) sum[static_cast<std::size_t>(c)] += pal[static_cast<std::size_t>(d[i]) * 3 + static_cast<std::size_t>(c)];
  return {static_cast<std::uint8_t>(sum[0] / 4096), static_cast<std::uint8_t>(sum[1] / 4096),
          static_cast<std::uint8_t>(sum[2] / 4096)};
}

}  // namespace envpool::vizdoom
