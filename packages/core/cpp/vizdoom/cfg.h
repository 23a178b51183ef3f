// ViZDoom-style scenario .cfg files: `key = value` lines, '#' comments, `key = { A B }` lists (which
// may span lines), keys compared without case or underscores. Every key must be one ViZDoom knows
// and every number is range-checked; the DoomNav scenarios use episode_timeout, living_reward and
// death_penalty and ignore the rest (docs/vizdoom.md).
#pragma once

#include <map>
#include <string>

namespace envpool::vizdoom {

struct CfgValue {
  std::string key;  // as written
  std::string text;
  double number = 0;
  int line = 0;
};
using Cfg = std::map<std::string, CfgValue>;  // by normalized key; a later line wins, as in ViZDoom

// Reads and validates a whole scenario .cfg (at most 1 MiB); throws std::invalid_argument naming the
// file, the line, the key and the allowed range.
Cfg ReadCfg(const std::string& path);

// The number of `key` (normalized: lower case, no underscores; validated by ReadCfg), or `fallback`
// when the cfg does not set it.
double CfgNumber(const Cfg& cfg, const std::string& key, double fallback);

// The first 60 characters of `s`, non-printable ones as '?', for messages.
std::string Printable(const std::string& s);

}  // namespace envpool::vizdoom
