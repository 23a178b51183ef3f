// Bounds-checked WAD reader (see wad.h). Our own code, written from the public format docs
// (Doom/Hexen lump layouts, the UDMF 1.1 text grammar).
#include "wad.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <set>

namespace envpool::vizdoom {
namespace {

constexpr std::int64_t kMaxFileSize = std::int64_t{1} << 30;  // 1 GiB
constexpr int kMaxPictureSide = 4096;

std::int32_t I32(const std::uint8_t* p) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
                                   (static_cast<std::uint32_t>(p[2]) << 16) |
                                   (static_cast<std::uint32_t>(p[3]) << 24));
}
std::int16_t I16(const std::uint8_t* p) {
  return static_cast<std::int16_t>(static_cast<std::uint16_t>(p[0] | (p[1] << 8)));
}
std::uint16_t U16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }

// An 8-byte lump/texture name: up to the first NUL, upper-cased, non-printable bytes as '?'.
std::string Name8(const std::uint8_t* p) {
  std::string s;
  for (int i = 0; i < 8 && p[i] != 0; ++i) {
    unsigned char c = p[i];
    s.push_back(c >= 32 && c < 127 ? static_cast<char>(std::toupper(c)) : '?');
  }
  return s;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

const char* MapFormatName(MapFormat f) {
  switch (f) {
    case MapFormat::kDoom:
      return "doom";
    case MapFormat::kHexen:
      return "hexen";
    case MapFormat::kUdmf:
      return "udmf";
  }
  return "?";
}

WadFile::WadFile(const std::string& path) : path_(path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw WadError(path + ": cannot open the file");
  f.seekg(0, std::ios::end);
  std::streamoff end = f.tellg();
  if (end < 0) throw WadError(path + ": cannot read the file size");
  if (end > kMaxFileSize) throw WadError(path + ": file larger than 1 GiB, not a WAD we accept");
  if (end < 12) throw WadError(path + ": header: file is " + std::to_string(end) + " bytes, a WAD header needs 12");
  f.seekg(0, std::ios::beg);
  data_.resize(static_cast<std::size_t>(end));
  if (!f.read(reinterpret_cast<char*>(data_.data()), end)) throw WadError(path + ": read error");
  ReadDirectory();
}

WadFile::WadFile(const std::string& name, std::vector<std::uint8_t> data) : path_(name), data_(std::move(data)) {
  if (static_cast<std::int64_t>(data_.size()) > kMaxFileSize)
    throw WadError(path_ + ": file larger than 1 GiB, not a WAD we accept");
  if (data_.size() < 12)
    throw WadError(path_ + ": header: file is " + std::to_string(data_.size()) + " bytes, a WAD header needs 12");
  ReadDirectory();
}

void WadFile::ReadDirectory() {
  const std::string& path = path_;
  const std::int64_t end = static_cast<std::int64_t>(data_.size());
  const std::uint8_t* h = data_.data();
  if (std::memcmp(h, "IWAD", 4) == 0) {
    kind_ = "IWAD";
  } else if (std::memcmp(h, "PWAD", 4) == 0) {
    kind_ = "PWAD";
  } else {
    throw WadError(path + ": header: magic is not IWAD or PWAD");
  }
  const std::int64_t n = I32(h + 4), dir = I32(h + 8), size = end;
  if (n < 0) throw WadError(path + ": header: negative lump count " + std::to_string(n));
  if (dir < 12 && n > 0)
    throw WadError(path + ": header: directory offset " + std::to_string(dir) + " overlaps the header");
  if (n > (size - 12) / 16)
    throw WadError(path + ": header: lump count " + std::to_string(n) + " cannot fit in a " + std::to_string(size) +
                   "-byte file");
  if (dir < 0 || dir + 16 * n > size)
    throw WadError(path + ": header: directory (offset " + std::to_string(dir) + ", " + std::to_string(n) +
                   " entries) extends past the end of the file (" + std::to_string(size) + " bytes)");
  lumps_.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint8_t* e = h + dir + 16 * i;
    LumpInfo l;
    l.offset = I32(e);
    l.size = I32(e + 4);
    l.name = Name8(e + 8);
    std::string where = path + ": lump '" + l.name + "' (#" + std::to_string(i) + "): ";
    if (l.size < 0) throw WadError(where + "negative size " + std::to_string(l.size));
    if (l.offset < 0) throw WadError(where + "negative offset " + std::to_string(l.offset));
    if (l.size > 0 && l.offset < 12)
      throw WadError(where + "data at offset " + std::to_string(l.offset) + " overlaps the 12-byte header");
    if (l.offset + l.size > size)
      throw WadError(where + "data (offset " + std::to_string(l.offset) + ", size " + std::to_string(l.size) +
                     ") extends past the end of the file (" + std::to_string(size) + " bytes)");
    lumps_.push_back(std::move(l));
  }
}

int WadFile::Find(const std::string& name, int begin, int end) const {
  int n = static_cast<int>(lumps_.size());
  if (end < 0 || end > n) end = n;
  if (begin < 0) begin = 0;
  for (int i = end - 1; i >= begin; --i)
    if (lumps_[static_cast<std::size_t>(i)].name == name) return i;
  return -1;
}

const std::uint8_t* WadFile::Data(int index) const {
  return data_.data() + lumps_.at(static_cast<std::size_t>(index)).offset;
}
std::size_t WadFile::Size(int index) const {
  return static_cast<std::size_t>(lumps_.at(static_cast<std::size_t>(index)).size);
}

void WadFile::Fail(int index, const std::string& message) const {
  std::string name = index >= 0 && index < static_cast<int>(lumps_.size())
                         ? lumps_[static_cast<std::size_t>(index)].name
                         : std::string("?");
  throw WadError(path_ + ": lump '" + name + "' (#" + std::to_string(index) + "): " + message);
}
void WadFile::FailNamed(const std::string& lump, const std::string& message) const {
  throw WadError(path_ + ": lump '" + lump + "': " + message);
}

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
