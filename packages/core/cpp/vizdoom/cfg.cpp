// The scenario .cfg reader (cfg.h).
#include "cfg.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace envpool::vizdoom {
namespace {

enum class CfgKind { kText, kList, kCount, kTimeout, kSkill, kReward };

struct CfgKey {
  const char* name;  // lower case, without underscores
  CfgKind kind;
};

constexpr CfgKey kCfgKeys[] = {
    {"doomscenariopath", CfgKind::kText}, {"doomgamepath", CfgKind::kText},
    {"vizdoompath", CfgKind::kText},      {"doomconfigpath", CfgKind::kText},
    {"doommap", CfgKind::kText},          {"doomskill", CfgKind::kSkill},
    {"seed", CfgKind::kCount},            {"episodetimeout", CfgKind::kTimeout},
    {"episodestarttime", CfgKind::kCount}, {"ticrate", CfgKind::kCount},
    {"audiobuffersize", CfgKind::kCount}, {"livingreward", CfgKind::kReward},
    {"deathpenalty", CfgKind::kReward},   {"deathreward", CfgKind::kReward},
    {"mapexitreward", CfgKind::kReward},  {"killreward", CfgKind::kReward},
    {"secretreward", CfgKind::kReward},   {"itemreward", CfgKind::kReward},
    {"fragreward", CfgKind::kReward},     {"hitreward", CfgKind::kReward},
    {"hittakenreward", CfgKind::kReward}, {"damagemadereward", CfgKind::kReward},
    {"damagetakenreward", CfgKind::kReward}, {"healthreward", CfgKind::kReward},
    {"armorreward", CfgKind::kReward},    {"screenresolution", CfgKind::kText},
    {"screenformat", CfgKind::kText},     {"renderhud", CfgKind::kText},
    {"renderminimalhud", CfgKind::kText}, {"renderweapon", CfgKind::kText},
    {"rendercrosshair", CfgKind::kText},  {"renderdecals", CfgKind::kText},
    {"renderparticles", CfgKind::kText},  {"rendereffectssprites", CfgKind::kText},
    {"rendermessages", CfgKind::kText},   {"rendercorpses", CfgKind::kText},
    {"renderscreenflashes", CfgKind::kText}, {"renderallframes", CfgKind::kText},
    {"windowvisible", CfgKind::kText},    {"consoleenabled", CfgKind::kText},
    {"soundenabled", CfgKind::kText},     {"audiobufferenabled", CfgKind::kText},
    {"audiosamplingrate", CfgKind::kText}, {"depthbufferenabled", CfgKind::kText},
    {"labelsbufferenabled", CfgKind::kText}, {"automapbufferenabled", CfgKind::kText},
    {"automapmode", CfgKind::kText},      {"automaprotate", CfgKind::kText},
    {"automaprendertextures", CfgKind::kText}, {"objectsinfoenabled", CfgKind::kText},
    {"sectorsinfoenabled", CfgKind::kText}, {"mode", CfgKind::kText},
    {"buttonmaxvalue", CfgKind::kText},   {"gameargs", CfgKind::kText},
    {"availablebuttons", CfgKind::kList}, {"availablegamevariables", CfgKind::kList},
};

// Allowed ranges: counts (tics, seeds) are integers, rewards finite reals.
constexpr long long kMaxCfgCount = 10'000'000;  // tics: 79 hours at 35 Hz
constexpr double kMaxCfgReward = 1e6;
constexpr std::streamoff kMaxCfgBytes = 1 << 20;

std::string Trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

[[noreturn]] void CfgFail(const std::string& path, int line, const std::string& message) {
  throw std::invalid_argument(path + ": line " + std::to_string(line) + ": " + message);
}

// Parses and range-checks the number of a numeric key.
double CfgNumberOf(const std::string& path, const CfgValue& v, CfgKind kind) {
  const std::string& t = v.text;
  char* end = nullptr;
  errno = 0;
  const double d = std::strtod(t.c_str(), &end);
  const bool is_number = end != t.c_str() && *end == 0;
  if (kind == CfgKind::kReward) {
    if (!is_number) CfgFail(path, v.line, "'" + v.key + "' must be a number in [-1e6, 1e6], got '" + Printable(t) + "'");
    if (!std::isfinite(d) || errno == ERANGE || d < -kMaxCfgReward || d > kMaxCfgReward)
      CfgFail(path, v.line, "'" + v.key + "' = " + Printable(t) + " is outside the allowed range [-1e6, 1e6] (a finite number)");
    return d;
  }
  const long long lo = kind == CfgKind::kCount ? 0 : 1;
  const long long hi = kind == CfgKind::kSkill ? 5 : kMaxCfgCount;
  const std::string range = "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  bool digits = !t.empty() && t.size() <= 18;
  for (char c : t) digits = digits && std::isdigit(static_cast<unsigned char>(c));
  if (!digits && !is_number)
    CfgFail(path, v.line, "'" + v.key + "' must be an integer in " + range + ", got '" + Printable(t) + "'");
  const long long n = digits ? std::stoll(t) : -1;
  if (!digits || n < lo || n > hi)
    CfgFail(path, v.line, "'" + v.key + "' = " + Printable(t) + " is outside the allowed range " + range + " (an integer)");
  return static_cast<double>(n);
}

}  // namespace

std::string Printable(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 60)) out.push_back(std::isprint(static_cast<unsigned char>(c)) ? c : '?');
  return s.size() > 60 ? out + "..." : out;
}

Cfg ReadCfg(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::invalid_argument(path + ": cannot open the scenario config");
  f.seekg(0, std::ios::end);
  if (static_cast<std::streamoff>(f.tellg()) > kMaxCfgBytes)
    throw std::invalid_argument(path + ": larger than 1 MiB, not a scenario config");
  f.seekg(0, std::ios::beg);
  Cfg out;
  std::string raw;
  int line = 0, list_start = 0, depth = 0;
  bool list_may_start = false;  // after `list_key =` with the { on a later line
  while (std::getline(f, raw)) {
    ++line;
    auto hash = raw.find('#');
    if (hash != std::string::npos) raw.resize(hash);
    for (char c : raw) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && !std::isspace(u)) || u == 0x7f)
        CfgFail(path, line, "is not text (control byte " + std::to_string(u) + ")");
    }
    const std::string text = Trim(raw);
    const int opens = static_cast<int>(std::count(text.begin(), text.end(), '{'));
    const int closes = static_cast<int>(std::count(text.begin(), text.end(), '}'));
    if (depth > 0 || (list_may_start && !text.empty() && text[0] == '{')) {
      if (depth == 0) list_start = line;
      depth += opens - closes;
      if (depth < 0) CfgFail(path, line, "'}' without a matching '{'");
      list_may_start = false;
      continue;
    }
    if (text.empty()) continue;
    list_may_start = false;
    const auto eq = text.find('=');
    if (eq == std::string::npos)
      CfgFail(path, line, "expected 'key = value', a '#' comment or a { } list, got '" + Printable(text) + "'");
    std::string written = Trim(text.substr(0, eq));
    if (!written.empty() && written.back() == '+') written = Trim(written.substr(0, written.size() - 1));  // +=
    std::string key;
    for (char c : written)
      if (c != '_') key.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    const CfgKey* known = nullptr;
    for (const auto& k : kCfgKeys)
      if (key == k.name) known = &k;
    if (known == nullptr)
      CfgFail(path, line, "unknown key '" + Printable(written) + "' (not a ViZDoom scenario config key)");
    CfgValue v;
    v.key = written;
    v.text = Trim(text.substr(eq + 1));
    v.line = line;
    if (known->kind == CfgKind::kList) {
      if (v.text.empty()) {
        list_may_start = true;
      } else if (v.text[0] == '{') {
        depth = opens - closes;
        list_start = line;
      } else {
        CfgFail(path, line, "'" + written + "' must be a { } list");
      }
    } else if (v.text.empty()) {
      CfgFail(path, line, "'" + written + "' has no value");
    } else if (known->kind != CfgKind::kText) {
      v.number = CfgNumberOf(path, v, known->kind);
    }
    out[key] = std::move(v);
  }
  if (depth > 0) CfgFail(path, list_start, "the { list is not closed");
  if (out.empty()) throw std::invalid_argument(path + ": no 'key = value' line: not a ViZDoom scenario config");
  return out;
}

double CfgNumber(const Cfg& cfg, const std::string& key, double fallback) {
  auto it = cfg.find(key);
  return it == cfg.end() ? fallback : it->second.number;
}

}  // namespace envpool::vizdoom
