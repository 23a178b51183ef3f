// A stand-alone driver that runs every part of the WAD reader over its input, for the sanitizer
// run (tools/wad/sanitize.py) and the libFuzzer target (tools/wad/fuzz.py). Not part of the wheel.
//
//   wad_check FILE...      prints "ok <file> ..." or "ValueError <message>" per file; exits 1 on
//                          any other exception (a reader bug), 0 otherwise.
//   -DWAD_FUZZER           builds LLVMFuzzerTestOneInput instead of main().
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "wad.h"

namespace {

using envpool::vizdoom::WadFile;

// Exercises the whole reader; returns a short summary.
std::string Exercise(const WadFile& wad) {
  using namespace envpool::vizdoom;
  std::size_t maps = 0, textures = 0, flats = 0;
  for (int m : FindMaps(wad)) {
    ParseMap(wad, m);
    ++maps;
  }
  Palette pal{};
  if (wad.Find("PLAYPAL") >= 0) pal = ReadPalette(wad);
  for (const auto& kv : ReadTextures(wad)) {
    ComposeTexture(wad, kv.second);
    ++textures;
  }
  int fs = wad.Find("F_START"), fe = wad.Find("F_END");
  if (fs >= 0 && fe > fs)
    for (int i = fs + 1; i < fe; ++i)
      if (wad.Size(i) > 0) {
        FlatColor(wad, i, pal);
        ++flats;
      }
  return std::to_string(wad.lumps().size()) + " lumps, " + std::to_string(maps) + " maps, " +
         std::to_string(textures) + " textures, " + std::to_string(flats) + " flats";
}

}  // namespace

#ifdef WAD_FUZZER
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    WadFile wad("fuzz.wad", std::vector<std::uint8_t>(data, data + size));
    Exercise(wad);
  } catch (const envpool::vizdoom::WadError&) {
    // the expected outcome for malformed input
  }
  return 0;  // any other exception escapes and is reported as a crash
}
#else
int main(int argc, char** argv) {
  int status = 0;
  for (int i = 1; i < argc; ++i) {
    try {
      WadFile wad(argv[i]);
      std::printf("ok %s: %s\n", argv[i], Exercise(wad).c_str());
    } catch (const envpool::vizdoom::WadError& e) {
      std::printf("ValueError %s\n", e.what());
    } catch (const std::exception& e) {
      std::printf("BUG %s: unexpected %s\n", argv[i], e.what());
      status = 1;
    }
  }
  return status;
}
#endif
