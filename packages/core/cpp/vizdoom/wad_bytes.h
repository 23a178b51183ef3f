// Little-endian field readers, name helpers and size limits shared by the WAD reader's parts
// (wad.cpp: the directory, wad_map.cpp: maps, wad_graphics.cpp: pictures). Callers check bounds first.
#pragma once

#include <cctype>
#include <cstdint>
#include <string>

namespace envpool::vizdoom::detail {

inline constexpr std::int64_t kMaxFileSize = std::int64_t{1} << 30;  // 1 GiB
inline constexpr int kMaxPictureSide = 4096;

inline std::int32_t I32(const std::uint8_t* p) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
                                   (static_cast<std::uint32_t>(p[2]) << 16) |
                                   (static_cast<std::uint32_t>(p[3]) << 24));
}
inline std::int16_t I16(const std::uint8_t* p) {
  return static_cast<std::int16_t>(static_cast<std::uint16_t>(p[0] | (p[1] << 8)));
}
inline std::uint16_t U16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }

// An 8-byte lump/texture name: up to the first NUL, upper-cased, non-printable bytes as '?'.
inline std::string Name8(const std::uint8_t* p) {
  std::string s;
  for (int i = 0; i < 8 && p[i] != 0; ++i) {
    unsigned char c = p[i];
    s.push_back(c >= 32 && c < 127 ? static_cast<char>(std::toupper(c)) : '?');
  }
  return s;
}

inline std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

inline std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace envpool::vizdoom::detail
