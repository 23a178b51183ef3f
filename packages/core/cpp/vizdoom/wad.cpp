// Bounds-checked WAD reader (see wad.h). Our own code, written from the public format docs
// (Doom/Hexen lump layouts, the UDMF 1.1 text grammar).
#include "wad.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <set>

#include "wad_bytes.h"

namespace envpool::vizdoom {
using namespace detail;  // NOLINT(build/namespaces): the shared byte readers

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

}  // namespace envpool::vizdoom
