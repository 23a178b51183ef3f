// How much memory this process can still allocate (MemAvailable, RLIMIT_AS, cgroup v2 memory.max),
// checked before a pool allocates its buffers.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>

namespace envpool {

namespace detail {

inline std::string Bytes(std::uint64_t n) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%llu bytes (%.2f GiB)", static_cast<unsigned long long>(n),
                static_cast<double>(n) / (1024.0 * 1024.0 * 1024.0));
  return buf;
}

// The number after the word `key` in the text file `path` (the first word when `key` is empty), or
// -1 when the file, the key or the number is missing (cgroup's "max" counts as missing).
inline long long ReadNumber(const std::string& path, const std::string& key) {
  std::ifstream f(path);
  std::string word;
  if (!key.empty())
    while (f >> word && word != key) {
    }
  long long v = -1;
  return (f >> v) ? v : -1;
}

// What this process can still allocate: the least of MemAvailable, the RLIMIT_AS headroom and the
// cgroup v2 memory.max headroom, each when known, with the name of the one that binds.
struct Headroom {
  std::uint64_t bytes = std::numeric_limits<std::uint64_t>::max();
  std::string source = "no limit known";
  void Offer(long long b, const std::string& what) {
    if (b < 0) b = 0;
    if (static_cast<std::uint64_t>(b) < bytes) {
      bytes = static_cast<std::uint64_t>(b);
      source = what;
    }
  }
};

inline Headroom AvailableMemory() {
  Headroom h;
  long long avail_kb = ReadNumber("/proc/meminfo", "MemAvailable:");
  if (avail_kb >= 0) h.Offer(avail_kb * 1024, "MemAvailable in /proc/meminfo");
  rlimit as{};
  if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY) {
    long long pages = ReadNumber("/proc/self/statm", "");
    long long used = pages < 0 ? 0 : pages * sysconf(_SC_PAGESIZE);
    h.Offer(static_cast<long long>(as.rlim_cur) - used,
            "RLIMIT_AS (ulimit -v) of " + std::to_string(as.rlim_cur) + " bytes, " + std::to_string(used) +
                " in use");
  }
  std::ifstream cg("/proc/self/cgroup");
  std::string line;
  while (std::getline(cg, line))
    if (line.rfind("0::", 0) == 0) {
      std::string dir = "/sys/fs/cgroup" + line.substr(3);
      long long max = ReadNumber(dir + "/memory.max", "");
      long long cur = ReadNumber(dir + "/memory.current", "");
      if (max >= 0 && cur >= 0) h.Offer(max - cur, "the cgroup's memory.max (" + dir + ")");
    }
  return h;
}

}  // namespace detail

}  // namespace envpool
