// A small navigation engine on Doom maps: immutable level data shared by every env of a pool,
// player movement with Doom-like collision, a few line specials (doors, exits, teleports), item
// pickups, and a column renderer (walls textured from the WAD, flat-coloured floors/ceilings,
// billboard sprites for items). Our own code; not ViZDoom/ZDoom.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "wad.h"

namespace envpool::vizdoom {

using Rgb = std::array<std::uint8_t, 3>;

// A picture converted to RGB, column-major, with an opacity mask.
struct RgbPicture {
  int width = 0, height = 0, left = 0, top = 0;
  std::vector<std::uint8_t> rgb;
  std::vector<std::uint8_t> opaque;
};

struct LevelSector {
  double floor = 0, ceil = 0;
  int light = 160, special = 0, tag = 0;
  Rgb floor_rgb{}, ceil_rgb{};
  bool sky = false;
  double door_top = 0;  // lowest neighbouring ceiling - 4, where an opened door stops
  double lift_low = 0;  // lowest neighbouring (or own) floor, where a lift stops
};

struct LevelSide {
  int upper = -1, lower = -1, middle = -1;  // texture indices, -1 = none
  double xoff = 0, yoff = 0;
  int sector = 0;
};

struct LevelLine {
  Vertex a, b;
  double len = 0;
  double minx = 0, maxx = 0, miny = 0, maxy = 0;
  int flags = 0, special = 0, tag = 0;
  int front = -1, back = -1;  // side indices
};

// Everything read from the WADs for one map: shared (read-only) by all envs of a pool.
struct Level {
  std::string map_name;
  MapFormat format = MapFormat::kDoom;
  std::vector<ThingDef> things;
  std::vector<LevelSector> sectors;
  std::vector<LevelSide> sides;
  std::vector<LevelLine> lines;
  std::vector<int> special_lines;
  std::vector<RgbPicture> textures;
  std::vector<std::pair<int, RgbPicture>> sprites;  // thing type -> sprite
  Rgb sky{};
  const RgbPicture* SpriteOf(int type) const;
};

// Loads (or returns the cached copy of) the map `map_name` of `map_wad`, textured from `resource_wad`
// (the IWAD). Thread-safe; the cache holds weak references, so a level lives as long as a pool uses it.
std::shared_ptr<const Level> LoadLevel(const std::string& resource_wad, const std::string& map_wad,
                                       const std::string& map_name, const std::vector<int>& sprite_types);

// The actions of every DoomNav task.
enum ActionId : int {
  kForward = 0,
  kBackward = 1,
  kTurnLeft = 2,
  kTurnRight = 3,
  kStrafeLeft = 4,
  kStrafeRight = 5,
  kNoop = 6,
  kNumActions = 7
};

struct Item {
  double x = 0, y = 0, z = 0;
  int type = 0;
  bool alive = true;
};

// The mutable state of one env.
class World {
 public:
  explicit World(std::shared_ptr<const Level> level);

  // Restores the level's initial sector heights and places the player.
  void Reset(double x, double y, double angle_deg);
  void Place(double x, double y, double angle_deg);
  // Runs one 35 Hz tic with `action`. Returns the type of each item picked up during the tic.
  std::vector<int> Tic(int action);
  void Render(std::uint8_t* rgb, int height, int width) const;

  int SectorAt(double x, double y) const;
  void AddItem(double x, double y, int type);
  // Whether a player could stand at (x, y) (used to place items / validate set_state).
  bool Fits(double x, double y) const;

  const Level& level() const { return *level_; }
  double x() const { return x_; }
  double y() const { return y_; }
  double z() const { return z_; }
  double angle_deg() const;
  bool exited() const { return exited_; }
  int tic() const { return tic_; }
  int health = 100;
  std::vector<Item> items;

 private:
  struct Door {
    int sector;
    double target, speed;
  };
  struct Lift {
    int sector;
    double low, high, speed;
    int wait;   // tics left at the bottom
    bool down;  // moving down (else waiting or going back up)
  };
  bool CheckPosition(double x, double y, double* floorz, double* ceilz) const;
  bool TryMove(double nx, double ny);
  void Move();
  void AutoUse();
  void CrossSpecials(double ox, double oy);
  void Activate(int line, bool use);
  void OpenDoor(int sector, double speed);
  void LowerLift(int sector, double speed);
  void RunMovers();
  double Floor(int s) const { return floor_[static_cast<std::size_t>(s)]; }
  double Ceil(int s) const { return ceil_[static_cast<std::size_t>(s)]; }

  std::shared_ptr<const Level> level_;
  std::vector<double> floor_, ceil_;
  std::vector<Door> doors_;
  std::vector<Lift> lifts_;
  double x_ = 0, y_ = 0, z_ = 0, angle_ = 0, vx_ = 0, vy_ = 0;
  int tic_ = 0;
  bool exited_ = false;
};

}  // namespace envpool::vizdoom
