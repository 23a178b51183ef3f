// MuJoCo helpers shared by the robotics envs: model loading with readable errors, a per-process
// cache that lets every env of a pool share one mjModel, and the small mujoco_utils.py equivalents
// of gymnasium-robotics (joint/site access, Jacobian velocities, mocap welds).
#pragma once

#include <mujoco/mujoco.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace envpool::robotics {

struct DataDeleter {
  void operator()(mjData* d) const { mj_deleteData(d); }
};
using DataPtr = std::unique_ptr<mjData, DataDeleter>;

inline DataPtr MakeData(const mjModel* m) {
  mjData* d = mj_makeData(m);
  if (d == nullptr) throw std::runtime_error("MuJoCo could not allocate mjData (out of memory?)");
  return DataPtr(d);
}

// Loads an MJCF file; every failure becomes std::invalid_argument naming the file and carrying
// MuJoCo's own message. The caller owns the result (mj_deleteModel).
inline mjModel* LoadModel(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr)
    throw std::invalid_argument("robotics model file " + path + " cannot be opened (" + std::strerror(errno) +
                                "); reinstall the asset wheel that provides it");
  std::fclose(f);
  char error[2048] = {0};
  mjModel* m = mj_loadXML(path.c_str(), nullptr, error, static_cast<int>(sizeof(error)));
  if (m == nullptr) {
    error[sizeof(error) - 1] = '\0';
    throw std::invalid_argument("MuJoCo " + std::string(mj_versionString()) + " rejected model file " + path + ": " +
                                (error[0] != '\0' ? std::string(error) : std::string("unknown error")));
  }
  return m;
}

// Range-checks the model numbers the envs use. MuJoCo accepts any finite value it can parse;
// a zero, negative or huge timestep or a non-finite gravity would make every step meaningless.
inline void CheckModelNumbers(const mjModel* m, const std::string& file) {
  auto fail = [&](const std::string& key, double value, const std::string& range) {
    char text[32];
    std::snprintf(text, sizeof(text), "%.6g", value);
    throw std::invalid_argument("model file " + file + ": " + key + " = " + text + " is outside the allowed range " +
                                range);
  };
  if (!(m->opt.timestep > 0 && m->opt.timestep <= 0.1)) fail("option timestep", m->opt.timestep, "(0, 0.1] seconds");
  for (int k = 0; k < 3; ++k)
    if (!(std::fabs(m->opt.gravity[k]) <= 1000)) fail("option gravity", m->opt.gravity[k], "[-1000, 1000] m/s^2");
  for (int i = 0; i < m->nu; ++i) {
    const double lo = m->actuator_ctrlrange[2 * i], hi = m->actuator_ctrlrange[2 * i + 1];
    const std::string key = "actuator " + std::to_string(i) + " ctrlrange";
    if (!(std::fabs(lo) <= 1e6)) fail(key + " low", lo, "[-1e6, 1e6]");
    if (!(std::fabs(hi) <= 1e6)) fail(key + " high", hi, "[-1e6, 1e6]");
  }
}

// mj_step restarts the simulation itself (mj_resetData) when qpos, qvel or qacc become NaN or
// larger than mjMAXVAL, and records a warning: such a step is an error, not a silent restart.
inline void CheckStable(const mjData* d) {
  const std::pair<int, const char*> checks[] = {
      {mjWARN_BADQPOS, "qpos"}, {mjWARN_BADQVEL, "qvel"}, {mjWARN_BADQACC, "qacc"}};
  for (const auto& [warning, what] : checks)
    if (d->warning[warning].number > 0)
      throw std::runtime_error("MuJoCo simulation became unstable: " + std::string(what) + " of dof " +
                               std::to_string(d->warning[warning].lastinfo) +
                               " was not finite or beyond 1e10, and MuJoCo reset the simulation");
}

// MuJoCo's warnings are read from mjData::warning (CheckStable) instead of being printed and
// appended to MUJOCO_LOG.TXT in the working directory.
inline void IgnoreMujocoWarning(const char* /*msg*/) {}

// One shared, immutable object per key (model file + task), alive while any env uses it.
template <typename T>
std::shared_ptr<const T> Cached(const std::string& key, const std::function<std::shared_ptr<const T>()>& build) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<const T>> cache;
  std::lock_guard<std::mutex> lk(mu);
  auto it = cache.find(key);
  if (it != cache.end())
    if (auto alive = it->second.lock()) return alive;
  std::shared_ptr<const T> made = build();
  cache[key] = made;
  return made;
}

inline const char* ObjName(mjtObj type) {
  switch (type) {
    case mjOBJ_BODY:
      return "body";
    case mjOBJ_JOINT:
      return "joint";
    case mjOBJ_SITE:
      return "site";
    case mjOBJ_ACTUATOR:
      return "actuator";
    default:
      return "object";
  }
}

inline int RequireId(const mjModel* m, mjtObj type, const std::string& name, const std::string& file) {
  int id = mj_name2id(m, type, name.c_str());
  if (id < 0)
    throw std::invalid_argument("model file " + file + " has no " + ObjName(type) + " named '" + name +
                                "' (is it the gymnasium-robotics 1.4.2 model?)");
  return id;
}

inline int QposSize(int joint_type) {
  switch (joint_type) {
    case mjJNT_FREE:
      return 7;
    case mjJNT_BALL:
      return 4;
    default:
      return 1;
  }
}

// set_joint_qpos() of mujoco_utils.py.
inline void SetJointQpos(const mjModel* m, mjData* d, const std::string& name, const std::vector<double>& value,
                         const std::string& file) {
  int id = RequireId(m, mjOBJ_JOINT, name, file);
  int size = QposSize(m->jnt_type[id]);
  if (static_cast<int>(value.size()) != size)
    throw std::invalid_argument("joint '" + name + "' of " + file + " has " + std::to_string(size) +
                                " qpos values, got " + std::to_string(value.size()));
  for (int k = 0; k < size; ++k) d->qpos[m->jnt_qposadr[id] + k] = value[static_cast<std::size_t>(k)];
}

// The qpos/qvel addresses of the joints whose names start with "robot", in id order: what
// robot_get_obs() of mujoco_utils.py reads. Every such joint must be 1-dof (hinge or slide).
struct RobotJoints {
  std::vector<int> qpos_adr;
  std::vector<int> dof_adr;
};

inline RobotJoints FindRobotJoints(const mjModel* m, const std::string& file) {
  RobotJoints r;
  for (int j = 0; j < m->njnt; ++j) {
    const char* name = mj_id2name(m, mjOBJ_JOINT, j);
    if (name == nullptr || std::strncmp(name, "robot", 5) != 0) continue;
    if (m->jnt_type[j] != mjJNT_HINGE && m->jnt_type[j] != mjJNT_SLIDE)
      throw std::invalid_argument("robot joint '" + std::string(name) + "' of " + file + " is not a hinge or slide");
    r.qpos_adr.push_back(m->jnt_qposadr[j]);
    r.dof_adr.push_back(m->jnt_dofadr[j]);
  }
  return r;
}

// get_site_xvelp()/get_site_xvelr(): the site's Jacobian times qvel. `jac` is scratch of 3 * nv.
inline void SiteVelocity(const mjModel* m, const mjData* d, int site, bool rotational, std::vector<mjtNum>& jac,
                         double out[3]) {
  jac.assign(static_cast<std::size_t>(3 * m->nv), 0.0);
  if (rotational)
    mj_jacSite(m, d, nullptr, jac.data(), site);
  else
    mj_jacSite(m, d, jac.data(), nullptr, site);
  for (int r = 0; r < 3; ++r) {
    double s = 0.0;
    for (int c = 0; c < m->nv; ++c) s += jac[static_cast<std::size_t>(r * m->nv + c)] * d->qvel[c];
    out[r] = s;
  }
}

// rotations.mat2euler() of gymnasium-robotics for one row-major 3x3 matrix.
inline void Mat2Euler(const mjtNum* mat, double out[3]) {
  auto at = [mat](int r, int c) { return mat[r * 3 + c]; };
  const double eps4 = std::numeric_limits<double>::epsilon() * 4.0;
  double cy = std::sqrt(at(2, 2) * at(2, 2) + at(1, 2) * at(1, 2));
  bool condition = cy > eps4;
  out[2] = condition ? -std::atan2(at(0, 1), at(0, 0)) : -std::atan2(-at(1, 0), at(1, 1));
  out[1] = -std::atan2(-at(0, 2), cy);
  out[0] = condition ? -std::atan2(at(1, 2), at(2, 2)) : 0.0;
}

// reset_mocap_welds(): zero the weld offsets so each mocap body drags its welded body exactly.
inline void ResetMocapWelds(mjModel* m) {
  if (m->nmocap <= 0) return;
  for (int i = 0; i < m->neq; ++i) {
    if (m->eq_type[i] != mjEQ_WELD) continue;
    mjtNum* data = m->eq_data + static_cast<std::ptrdiff_t>(i) * mjNEQDATA;
    const mjtNum identity[7] = {0, 0, 0, 0, 0, 0, 1};
    for (int k = 0; k < 7; ++k) data[k] = identity[k];
  }
}

// The (mocap id, welded body id) pairs of reset_mocap2body_xpos(), checked once at load.
struct MocapWeld {
  int mocap;
  int body;
};

inline std::vector<MocapWeld> FindMocapWelds(const mjModel* m, const std::string& file) {
  std::vector<MocapWeld> welds;
  for (int i = 0; i < m->neq; ++i) {
    if (m->eq_type[i] != mjEQ_WELD) continue;
    if (m->eq_objtype[i] != mjOBJ_BODY)
      throw std::invalid_argument("weld " + std::to_string(i) + " of " + file + " does not connect bodies");
    int obj1 = m->eq_obj1id[i];
    int obj2 = m->eq_obj2id[i];
    int mocap = m->body_mocapid[obj1];
    int body = obj2;
    if (mocap == -1) {
      mocap = m->body_mocapid[obj2];
      body = obj1;
    }
    if (mocap == -1) throw std::invalid_argument("weld " + std::to_string(i) + " of " + file + " has no mocap body");
    welds.push_back(MocapWeld{mocap, body});
  }
  return welds;
}

inline double Distance(const double* a, const double* b, int n) {
  double s = 0.0;
  for (int i = 0; i < n; ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(s);
}

// Restores the reset state of gymnasium-robotics' MujocoRobotEnv._reset_sim() before randomization.
inline void ResetData(const mjModel* m, mjData* d, double time, const std::vector<double>& qpos,
                      const std::vector<double>& qvel) {
  mj_resetData(m, d);
  d->time = time;
  std::copy(qpos.begin(), qpos.end(), d->qpos);
  std::copy(qvel.begin(), qvel.end(), d->qvel);
  // gymnasium-robotics writes `data.act[:] = None` (NaN) when na != 0; every model here has na == 0.
}

// gymnasium-robotics' compute_reward(): the negative distance to the goal (dense), or -1 while
// farther than the threshold and -0.0 within it (sparse, the sign as numpy computes it).
inline double GoalReward(double distance, double threshold, bool dense) {
  if (dense) return -distance;
  return distance > threshold ? -1.0 : -0.0;
}

// Applies a parity-test state on top of a reset: qpos (nq), qvel (nv), then `goal_size` goal values
// written to `goal`. Validates the length and that every value is finite before touching anything.
inline void ApplyFlatState(const mjModel* m, mjData* d, double initial_time, const std::vector<double>& state,
                           double* goal, std::size_t goal_size) {
  std::size_t nq = static_cast<std::size_t>(m->nq);
  std::size_t nv = static_cast<std::size_t>(m->nv);
  if (state.size() != nq + nv + goal_size)
    throw std::invalid_argument("set_state() expects qpos (" + std::to_string(nq) + ") + qvel (" +
                                std::to_string(nv) + ") + goal (" + std::to_string(goal_size) +
                                ") = " + std::to_string(nq + nv + goal_size) + " values, got " +
                                std::to_string(state.size()));
  for (double v : state)
    if (!std::isfinite(v)) throw std::invalid_argument("set_state() values must be finite");
  std::vector<double> qpos(state.begin(), state.begin() + static_cast<std::ptrdiff_t>(nq));
  std::vector<double> qvel(state.begin() + static_cast<std::ptrdiff_t>(nq),
                           state.begin() + static_cast<std::ptrdiff_t>(nq + nv));
  ResetData(m, d, initial_time, qpos, qvel);
  mj_forward(m, d);
  std::copy(state.end() - static_cast<std::ptrdiff_t>(goal_size), state.end(), goal);
}

// Installs, once, an error handler that turns mju_error into a C++ exception instead of exit(),
// unless another component (e.g. the mujoco Python bindings) already installed its own.
inline void ThrowOnMujocoError(const char* msg) { throw std::runtime_error(std::string("MuJoCo error: ") + msg); }

}  // namespace envpool::robotics
