// Map parsing of the bounds-checked WAD reader (see wad.h): Doom/Hexen binary lumps and UDMF text.
#include "wad.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>

#include "wad_bytes.h"

namespace envpool::vizdoom {
using namespace detail;  // NOLINT(build/namespaces): the shared byte readers

// ---------------------------------------------------------------- maps

namespace {

const char* const kMapLumps[] = {"THINGS", "LINEDEFS", "SIDEDEFS", "VERTEXES", "SEGS", "SSECTORS",
                                 "NODES",  "SECTORS",  "REJECT",   "BLOCKMAP", "BEHAVIOR", "SCRIPTS"};

bool IsMapLump(const std::string& n) {
  for (const char* m : kMapLumps)
    if (n == m) return true;
  return false;
}

// Records of a fixed size in a lump; Fail()s if the lump is missing.
struct Records {
  const std::uint8_t* data = nullptr;
  std::size_t count = 0;
  int lump = -1;
};

Records GetRecords(const WadFile& wad, int begin, int end, const char* name, std::size_t rec, const std::string& map) {
  int i = wad.Find(name, begin, end);
  if (i < 0) wad.FailNamed(name, "map " + map + " has no " + name + " lump");
  if (wad.Size(i) % rec != 0)
    wad.Fail(i, "map " + map + " " + name + " lump is " + std::to_string(wad.Size(i)) + " bytes, not a whole number of " +
                    std::to_string(rec) + "-byte records (" + std::to_string(wad.Size(i) / rec) + " records and " +
                    std::to_string(wad.Size(i) % rec) + " bytes left over)");
  return Records{wad.Data(i), wad.Size(i) / rec, i};
}

void CheckRefs(const WadFile& wad, MapData& m, int line_lump, int side_lump) {
  const auto nv = static_cast<int>(m.vertexes.size()), ns = static_cast<int>(m.sides.size()),
             nsec = static_cast<int>(m.sectors.size());
  for (std::size_t i = 0; i < m.lines.size(); ++i) {
    const LineDef& l = m.lines[i];
    std::string what = "map " + m.name + " linedef " + std::to_string(i);
    if (l.v1 < 0 || l.v1 >= nv || l.v2 < 0 || l.v2 >= nv)
      wad.Fail(line_lump, what + " uses vertex " + std::to_string(l.v1 < 0 || l.v1 >= nv ? l.v1 : l.v2) +
                              " but the map has " + std::to_string(nv) + " vertexes");
    if (l.front < 0 || l.front >= ns)
      wad.Fail(line_lump, what + " has front sidedef " + std::to_string(l.front) + " but the map has " +
                              std::to_string(ns) + " sidedefs");
    if (l.back < -1 || l.back >= ns)
      wad.Fail(line_lump, what + " has back sidedef " + std::to_string(l.back) + " but the map has " +
                              std::to_string(ns) + " sidedefs");
  }
  for (std::size_t i = 0; i < m.sides.size(); ++i)
    if (m.sides[i].sector < 0 || m.sides[i].sector >= nsec)
      wad.Fail(side_lump, "map " + m.name + " sidedef " + std::to_string(i) + " uses sector " +
                              std::to_string(m.sides[i].sector) + " but the map has " + std::to_string(nsec) +
                              " sectors");
}

void ParseBinary(const WadFile& wad, int marker, int end, MapData& m) {
  const bool hexen = m.format == MapFormat::kHexen;
  Records th = GetRecords(wad, marker + 1, end, "THINGS", hexen ? 20 : 10, m.name);
  Records ln = GetRecords(wad, marker + 1, end, "LINEDEFS", hexen ? 16 : 14, m.name);
  Records sd = GetRecords(wad, marker + 1, end, "SIDEDEFS", 30, m.name);
  Records vx = GetRecords(wad, marker + 1, end, "VERTEXES", 4, m.name);
  Records sc = GetRecords(wad, marker + 1, end, "SECTORS", 26, m.name);
  for (std::size_t i = 0; i < th.count; ++i) {
    const std::uint8_t* p = th.data + i * (hexen ? 20 : 10);
    ThingDef t;
    if (hexen) {
      t.tid = I16(p);
      t.x = I16(p + 2);
      t.y = I16(p + 4);
      t.angle = I16(p + 8);
      t.type = I16(p + 10);
      t.flags = I16(p + 12);
    } else {
      t.x = I16(p);
      t.y = I16(p + 2);
      t.angle = I16(p + 4);
      t.type = I16(p + 6);
      t.flags = I16(p + 8);
    }
    m.things.push_back(t);
  }
  for (std::size_t i = 0; i < ln.count; ++i) {
    const std::uint8_t* p = ln.data + i * (hexen ? 16 : 14);
    LineDef l;
    l.v1 = U16(p);
    l.v2 = U16(p + 2);
    l.flags = U16(p + 4);
    if (hexen) {
      l.special = p[6];
      for (int k = 0; k < 5; ++k) l.args[static_cast<std::size_t>(k)] = p[7 + k];
      l.tag = l.args[0];
      l.front = U16(p + 12);
      l.back = U16(p + 14);
    } else {
      l.special = U16(p + 6);
      l.tag = U16(p + 8);
      l.front = U16(p + 10);
      l.back = U16(p + 12);
    }
    if (l.front == 0xFFFF) l.front = -1;
    if (l.back == 0xFFFF) l.back = -1;
    m.lines.push_back(l);
  }
  for (std::size_t i = 0; i < sd.count; ++i) {
    const std::uint8_t* p = sd.data + i * 30;
    SideDef s;
    s.xoff = I16(p);
    s.yoff = I16(p + 2);
    s.upper = Name8(p + 4);
    s.lower = Name8(p + 12);
    s.middle = Name8(p + 20);
    s.sector = U16(p + 28);
    m.sides.push_back(s);
  }
  for (std::size_t i = 0; i < vx.count; ++i) m.vertexes.push_back(Vertex{double(I16(vx.data + i * 4)),
                                                                          double(I16(vx.data + i * 4 + 2))});
  for (std::size_t i = 0; i < sc.count; ++i) {
    const std::uint8_t* p = sc.data + i * 26;
    SectorDef s;
    s.floor = I16(p);
    s.ceil = I16(p + 2);
    s.floor_tex = Name8(p + 4);
    s.ceil_tex = Name8(p + 12);
    s.light = I16(p + 20);
    s.special = I16(p + 22);
    s.tag = I16(p + 24);
    m.sectors.push_back(s);
  }
  CheckRefs(wad, m, ln.lump, sd.lump);
}

// ---- UDMF (TEXTMAP)

struct Token {
  enum Kind { kEnd, kIdent, kNumber, kString, kPunct } kind = kEnd;
  std::string text;
};

class UdmfLexer {
 public:
  UdmfLexer(const WadFile& wad, int lump) : wad_(wad), lump_(lump), p_(wad.Data(lump)), n_(wad.Size(lump)) {}

  Token Next() {
    Skip();
    Token t;
    if (i_ >= n_) return t;
    char c = static_cast<char>(p_[i_]);
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      t.kind = Token::kIdent;
      while (i_ < n_ && (std::isalnum(p_[i_]) || p_[i_] == '_')) t.text.push_back(static_cast<char>(p_[i_++]));
    } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.') {
      t.kind = Token::kNumber;
      while (i_ < n_ && (std::isalnum(p_[i_]) || p_[i_] == '.' || p_[i_] == '-' || p_[i_] == '+'))
        t.text.push_back(static_cast<char>(p_[i_++]));
    } else if (c == '"') {
      t.kind = Token::kString;
      ++i_;
      for (;;) {
        if (i_ >= n_) Fail("unterminated string");
        char d = static_cast<char>(p_[i_++]);
        if (d == '"') break;
        if (d == '\\') {
          if (i_ >= n_) Fail("unterminated string");
          d = static_cast<char>(p_[i_++]);
        }
        t.text.push_back(d);
      }
    } else if (c == '{' || c == '}' || c == '=' || c == ';') {
      t.kind = Token::kPunct;
      t.text = std::string(1, c);
      ++i_;
    } else {
      Fail(std::string("unexpected character '") + (std::isprint(static_cast<unsigned char>(c)) ? c : '?') + "'");
    }
    return t;
  }

  [[noreturn]] void Fail(const std::string& msg) const {
    wad_.Fail(lump_, "TEXTMAP line " + std::to_string(Line()) + ": " + msg);
  }

 private:
  void Skip() {
    while (i_ < n_) {
      if (std::isspace(p_[i_]) || p_[i_] == 0) {
        ++i_;
      } else if (p_[i_] == '/' && i_ + 1 < n_ && p_[i_ + 1] == '/') {
        while (i_ < n_ && p_[i_] != '\n') ++i_;
      } else if (p_[i_] == '/' && i_ + 1 < n_ && p_[i_ + 1] == '*') {
        i_ += 2;
        while (i_ + 1 < n_ && !(p_[i_] == '*' && p_[i_ + 1] == '/')) ++i_;
        i_ = std::min(n_, i_ + 2);
      } else {
        break;
      }
    }
  }
  int Line() const { return 1 + static_cast<int>(std::count(p_, p_ + std::min(i_, n_), '\n')); }

  const WadFile& wad_;
  int lump_;
  const std::uint8_t* p_;
  std::size_t n_;
  std::size_t i_ = 0;
};

using Fields = std::map<std::string, Token>;

double Num(UdmfLexer& lx, const Fields& f, const std::string& key, double fallback, bool required = false) {
  auto it = f.find(key);
  if (it == f.end()) {
    if (required) lx.Fail("missing required field '" + key + "'");
    return fallback;
  }
  if (it->second.kind != Token::kNumber) lx.Fail("field '" + key + "' must be a number");
  const std::string& s = it->second.text;
  char* endp = nullptr;
  double v = (s.size() > 2 && (s[1] == 'x' || s[1] == 'X')) ? static_cast<double>(std::strtol(s.c_str(), &endp, 16))
                                                             : std::strtod(s.c_str(), &endp);
  if (endp == s.c_str() || *endp != 0 || !(v > -1e9 && v < 1e9)) lx.Fail("field '" + key + "' has bad number '" + s + "'");
  return v;
}
int Int(UdmfLexer& lx, const Fields& f, const std::string& key, int fallback, bool required = false) {
  return static_cast<int>(Num(lx, f, key, fallback, required));
}
bool Bool(const Fields& f, const std::string& key) {
  auto it = f.find(key);
  return it != f.end() && it->second.kind == Token::kIdent && (it->second.text == "true");
}
std::string Str(const Fields& f, const std::string& key) {
  auto it = f.find(key);
  if (it == f.end() || it->second.kind != Token::kString) return "-";
  return Upper(it->second.text.substr(0, 64));
}

void ParseUdmf(const WadFile& wad, int textmap, MapData& m) {
  UdmfLexer lx(wad, textmap);
  for (;;) {
    Token t = lx.Next();
    if (t.kind == Token::kEnd) break;
    if (t.kind != Token::kIdent) lx.Fail("expected a block or field name, got '" + t.text + "'");
    Token u = lx.Next();
    if (u.kind == Token::kPunct && u.text == "=") {  // global field, e.g. namespace
      Token v = lx.Next();
      Token semi = lx.Next();
      if (v.kind == Token::kEnd || v.kind == Token::kPunct || semi.text != ";") lx.Fail("bad assignment to " + t.text);
      continue;
    }
    if (!(u.kind == Token::kPunct && u.text == "{")) lx.Fail("expected '{' after '" + t.text + "'");
    Fields f;
    for (;;) {
      Token k = lx.Next();
      if (k.kind == Token::kPunct && k.text == "}") break;
      if (k.kind != Token::kIdent) lx.Fail("expected a field name in block '" + t.text + "'");
      Token eq = lx.Next(), v = lx.Next(), semi = lx.Next();
      if (eq.text != "=" || v.kind == Token::kEnd || v.kind == Token::kPunct || semi.text != ";")
        lx.Fail("bad field '" + k.text + "' in block '" + t.text + "'");
      f[Lower(k.text)] = std::move(v);
    }
    const std::string block = Lower(t.text);
    if (block == "thing") {
      ThingDef th;
      th.x = Num(lx, f, "x", 0, true);
      th.y = Num(lx, f, "y", 0, true);
      th.angle = Num(lx, f, "angle", 0);
      th.type = Int(lx, f, "type", 0, true);
      th.tid = Int(lx, f, "id", 0);
      m.things.push_back(th);
    } else if (block == "vertex") {
      m.vertexes.push_back(Vertex{Num(lx, f, "x", 0, true), Num(lx, f, "y", 0, true)});
    } else if (block == "linedef") {
      LineDef l;
      l.v1 = Int(lx, f, "v1", 0, true);
      l.v2 = Int(lx, f, "v2", 0, true);
      l.front = Int(lx, f, "sidefront", 0, true);
      l.back = Int(lx, f, "sideback", -1);
      l.special = Int(lx, f, "special", 0);
      for (int k = 0; k < 5; ++k) l.args[static_cast<std::size_t>(k)] = Int(lx, f, "arg" + std::to_string(k), 0);
      l.tag = l.args[0];
      l.flags = (Bool(f, "blocking") ? 1 : 0) | (Bool(f, "twosided") ? 4 : 0) | (Bool(f, "dontpegtop") ? 8 : 0) |
                (Bool(f, "dontpegbottom") ? 16 : 0);
      m.lines.push_back(l);
    } else if (block == "sidedef") {
      SideDef s;
      s.xoff = Num(lx, f, "offsetx", 0);
      s.yoff = Num(lx, f, "offsety", 0);
      s.upper = Str(f, "texturetop");
      s.lower = Str(f, "texturebottom");
      s.middle = Str(f, "texturemiddle");
      s.sector = Int(lx, f, "sector", 0, true);
      m.sides.push_back(s);
    } else if (block == "sector") {
      SectorDef s;
      s.floor = Num(lx, f, "heightfloor", 0);
      s.ceil = Num(lx, f, "heightceiling", 0);
      s.floor_tex = Str(f, "texturefloor");
      s.ceil_tex = Str(f, "textureceiling");
      s.light = Int(lx, f, "lightlevel", 160);
      s.special = Int(lx, f, "special", 0);
      s.tag = Int(lx, f, "id", 0);
      m.sectors.push_back(s);
    }  // other blocks are ignored, as UDMF requires
  }
  CheckRefs(wad, m, textmap, textmap);
}

}  // namespace

std::vector<int> FindMaps(const WadFile& wad) {
  std::vector<int> out;
  const auto& l = wad.lumps();
  for (std::size_t i = 0; i + 1 < l.size(); ++i)
    if (!IsMapLump(l[i].name) && l[i].name != "TEXTMAP" && (l[i + 1].name == "THINGS" || l[i + 1].name == "TEXTMAP"))
      out.push_back(static_cast<int>(i));
  return out;
}

MapData ParseMap(const WadFile& wad, int marker) {
  const auto& l = wad.lumps();
  if (marker < 0 || marker + 1 >= static_cast<int>(l.size())) throw WadError(wad.path() + ": no map at lump " +
                                                                              std::to_string(marker));
  MapData m;
  m.name = l[static_cast<std::size_t>(marker)].name;
  if (l[static_cast<std::size_t>(marker) + 1].name == "TEXTMAP") {
    m.format = MapFormat::kUdmf;
    ParseUdmf(wad, marker + 1, m);
    return m;
  }
  int end = marker + 1;
  while (end < static_cast<int>(l.size()) && IsMapLump(l[static_cast<std::size_t>(end)].name)) ++end;
  m.format = wad.Find("BEHAVIOR", marker + 1, end) >= 0 ? MapFormat::kHexen : MapFormat::kDoom;
  ParseBinary(wad, marker, end, m);
  return m;
}

}  // namespace envpool::vizdoom
