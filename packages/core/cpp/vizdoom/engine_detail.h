// Constants and line-special tables shared by the DoomNav simulation (engine.cpp) and renderer
// (render.cpp); classic Doom values.
#pragma once

#include <algorithm>
#include <initializer_list>

namespace envpool::vizdoom::detail {

inline constexpr double kPi = 3.14159265358979323846;
inline constexpr double kRadius = 16;        // player radius
inline constexpr double kHeight = 56;        // player height
inline constexpr double kViewHeight = 41;    // eye above the floor
inline constexpr double kMaxStep = 24;       // highest step the player climbs
inline constexpr double kUseRange = 64;      // reach of the automatic "use"
inline constexpr double kItemRadius = 20;    // pickup radius of items
inline constexpr double kFriction = 0.90625;               // 0xE800 / 0x10000 per tic
inline constexpr double kForwardThrust = 25 * 2048 / 65536.0;  // walking forwardmove, per tic
inline constexpr double kSideThrust = 24 * 2048 / 65536.0;     // walking sidemove, per tic
inline constexpr double kTurn = 640 / 65536.0 * 2 * kPi;       // walking angleturn, per tic
inline constexpr double kMaxMove = 30;
inline constexpr double kNear = 1.0;

inline double Cross(double ax, double ay, double bx, double by) { return ax * by - ay * bx; }

// ---- line special tables (classic Doom numbering)
inline bool In(int v, std::initializer_list<int> s) { return std::find(s.begin(), s.end(), v) != s.end(); }
inline bool UseLocalDoor(int s) { return In(s, {1, 26, 27, 28, 31, 32, 33, 34, 117, 118}); }
inline bool UseTagDoor(int s) { return In(s, {29, 61, 63, 103, 111, 112, 114, 115}); }
inline bool UseExit(int s) { return In(s, {11, 51}); }
inline bool WalkTagDoor(int s) { return In(s, {2, 4, 86, 90, 105, 106, 108, 109}); }
inline bool WalkExit(int s) { return In(s, {52, 124}); }
inline bool WalkTeleport(int s) { return In(s, {39, 97, 125, 126}); }
inline bool UseLift(int s) { return In(s, {21, 62, 122, 123}); }
inline bool WalkLift(int s) { return In(s, {10, 88, 120, 121}); }
inline bool Blazing(int s) { return In(s, {117, 118, 111, 112, 114, 115, 105, 106, 108, 109, 120, 121, 122, 123}); }
inline bool IsUse(int s) { return UseLocalDoor(s) || UseTagDoor(s) || UseExit(s) || UseLift(s); }

}  // namespace envpool::vizdoom::detail
