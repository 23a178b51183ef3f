// The Fetch robot (Reach, Push, Slide and PickAndPlace differ only in their parameters) with
// gymnasium-robotics 1.4.2 v4 semantics: gymnasium_robotics/envs/fetch/fetch_env.py (MujocoFetchEnv)
// and robot_env.py (MujocoRobotEnv).
#pragma once

#include <mujoco/mujoco.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "../engine/env.h"
#include "mujoco_util.h"

namespace envpool::robotics {

// The constructor arguments of one Fetch task (gymnasium-robotics' reach.py, push.py, slide.py,
// pick_and_place.py), given as task parameters by the task table (envpool/tasks.py): see ReadFetch.
struct FetchParams {
  bool has_object = false;
  bool block_gripper = false;
  double gripper_extra_height = 0.0;
  bool target_in_the_air = false;
  std::array<double, 3> target_offset{};
  double obj_range = 0.0;
  double target_range = 0.0;
  double distance_threshold = 0.0;
  // the joints to set before the gripper is driven to its start pose, and their qpos values in
  // that order (each joint takes as many as its qpos has: 1 for a slide, 7 for a free joint)
  std::vector<std::string> initial_qpos_joints;
  std::vector<double> initial_qpos;
};

// A number parameter within [lo, hi].
inline double ReadInRange(const Config& c, const std::string& key, double lo, double hi, const char* unit) {
  const double v = c.Param<double>(key);
  if (!std::isfinite(v) || v < lo || v > hi)
    throw std::invalid_argument("task parameter '" + key + "' = " + std::to_string(v) +
                                " is outside the allowed range [" + std::to_string(lo) + ", " + std::to_string(hi) +
                                "] " + unit);
  return v;
}

// The Fetch parameters of a task, each checked: ranges in meters keep the reset sampling finite
// (the object is placed at least 10 cm from the gripper, so obj_range must allow that).
inline FetchParams ReadFetch(const Config& c) {
  FetchParams p;
  p.has_object = c.Param<bool>("has_object");
  p.block_gripper = c.Param<bool>("block_gripper");
  p.gripper_extra_height = ReadInRange(c, "gripper_extra_height", -1.0, 1.0, "m");
  p.target_in_the_air = c.Param<bool>("target_in_the_air");
  const std::vector<double> offset = c.Param<std::vector<double>>("target_offset");
  if (offset.size() != 3)
    throw std::invalid_argument("task parameter 'target_offset' must have 3 values (x, y, z), got " +
                                std::to_string(offset.size()));
  for (std::size_t k = 0; k < 3; ++k) {
    if (!std::isfinite(offset[k]) || std::abs(offset[k]) > 1.0)
      throw std::invalid_argument("task parameter 'target_offset' must be 3 values in [-1, 1] m, got " +
                                  std::to_string(offset[k]));
    p.target_offset[k] = offset[k];
  }
  p.obj_range = ReadInRange(c, "obj_range", 0.1, 1.0, "m");
  p.target_range = ReadInRange(c, "target_range", 0.0, 1.0, "m");
  p.distance_threshold = ReadInRange(c, "distance_threshold", 1e-6, 1.0, "m");
  std::istringstream joints(c.Param<std::string>("initial_qpos_joints"));
  for (std::string name; joints >> name;) p.initial_qpos_joints.push_back(name);
  p.initial_qpos = c.Param<std::vector<double>>("initial_qpos");
  if (p.initial_qpos_joints.size() > 64 || p.initial_qpos.size() > 7 * 64)
    throw std::invalid_argument("task parameters 'initial_qpos_joints' and 'initial_qpos' allow at most 64 joints");
  for (double v : p.initial_qpos)
    if (!std::isfinite(v) || std::abs(v) > 100.0)
      throw std::invalid_argument("task parameter 'initial_qpos' must be values in [-100, 100], got " +
                                  std::to_string(v));
  return p;
}

// A key for the model cache: the file and every parameter, exactly (FetchShared keeps them all).
inline std::string FetchKey(const std::string& file, const FetchParams& p) {
  std::ostringstream key;
  key << std::hexfloat << file << '\n' << p.has_object << p.block_gripper << p.target_in_the_air;
  for (double v : {p.gripper_extra_height, p.obj_range, p.target_range, p.distance_threshold}) key << ' ' << v;
  for (double v : p.target_offset) key << ' ' << v;
  for (const auto& name : p.initial_qpos_joints) key << ' ' << name;
  for (double v : p.initial_qpos) key << ' ' << v;
  return key.str();
}

// _env_setup()'s initial joint positions.
inline void SetInitialQpos(const mjModel* m, mjData* d, const FetchParams& p, const std::string& file) {
  std::size_t next = 0;
  for (const auto& name : p.initial_qpos_joints) {
    const auto size = static_cast<std::size_t>(QposSize(m->jnt_type[RequireId(m, mjOBJ_JOINT, name, file)]));
    if (next + size > p.initial_qpos.size())
      throw std::invalid_argument("task parameter 'initial_qpos' has " + std::to_string(p.initial_qpos.size()) +
                                  " values, too few for the joints of " + file);
    SetJointQpos(m, d, name, std::vector<double>(p.initial_qpos.begin() + static_cast<std::ptrdiff_t>(next),
                                                 p.initial_qpos.begin() + static_cast<std::ptrdiff_t>(next + size)),
                 file);
    next += size;
  }
  if (next != p.initial_qpos.size())
    throw std::invalid_argument("task parameter 'initial_qpos' has " + std::to_string(p.initial_qpos.size()) +
                                " values, but its joints in " + file + " take " + std::to_string(next));
}

constexpr int kFetchSubsteps = 20;

// Everything derived from the model file once per pool: the model (with its mocap welds reset),
// ids, and the state _env_setup() leaves behind.
struct FetchShared {
  std::unique_ptr<mjModel, void (*)(mjModel*)> model{nullptr, mj_deleteModel};
  std::string file;
  FetchParams params;
  int grip_site = -1;
  int object_site = -1;
  int object_qpos = -1;
  int l_finger_qpos = -1;
  int r_finger_qpos = -1;
  RobotJoints robot;
  std::vector<MocapWeld> welds;
  double dt = 0.0;
  double initial_time = 0.0;
  std::vector<double> initial_qpos;
  std::vector<double> initial_qvel;
  std::array<double, 3> initial_gripper_xpos{};
  double height_offset = 0.0;
};

inline std::shared_ptr<const FetchShared> LoadFetch(const std::string& file, const FetchParams& p) {
  auto s = std::make_shared<FetchShared>();
  s->file = file;
  s->params = p;
  s->model.reset(LoadModel(file));
  mjModel* m = s->model.get();
  CheckModelNumbers(m, file);
  if (m->nmocap != 1)
    throw std::invalid_argument("model file " + file + " must have exactly one mocap body, has " +
                                std::to_string(m->nmocap));
  if (m->nu != 0 && m->nu != 2)
    throw std::invalid_argument("model file " + file + " must have 0 or 2 gripper actuators, has " +
                                std::to_string(m->nu));
  if (m->na != 0) throw std::invalid_argument("model file " + file + " has activation states, which Fetch does not");
  s->grip_site = RequireId(m, mjOBJ_SITE, "robot0:grip", file);
  s->l_finger_qpos = m->jnt_qposadr[RequireId(m, mjOBJ_JOINT, "robot0:l_gripper_finger_joint", file)];
  s->r_finger_qpos = m->jnt_qposadr[RequireId(m, mjOBJ_JOINT, "robot0:r_gripper_finger_joint", file)];
  int mocap_body = RequireId(m, mjOBJ_BODY, "robot0:mocap", file);
  if (p.has_object) {
    s->object_site = RequireId(m, mjOBJ_SITE, "object0", file);
    int joint = RequireId(m, mjOBJ_JOINT, "object0:joint", file);
    if (m->jnt_type[joint] != mjJNT_FREE) throw std::invalid_argument("object0:joint of " + file + " is not free");
    s->object_qpos = m->jnt_qposadr[joint];
  }
  s->robot = FindRobotJoints(m, file);
  if (s->robot.qpos_adr.size() < 2)
    throw std::invalid_argument("model file " + file + " has fewer than two robot joints");
  s->welds = FindMocapWelds(m, file);
  s->dt = kFetchSubsteps * m->opt.timestep;

  // _env_setup(): initial joints, mocap welds, then drive the gripper into its start pose.
  DataPtr d = MakeData(m);
  SetInitialQpos(m, d.get(), p, file);
  ResetMocapWelds(m);
  mj_forward(m, d.get());
  mj_forward(m, d.get());
  int mocap = m->body_mocapid[mocap_body];
  const double* grip = d->site_xpos + 3 * s->grip_site;
  const double offset[3] = {-0.498, 0.005, -0.431 + p.gripper_extra_height};
  const double rotation[4] = {1.0, 0.0, 1.0, 0.0};
  for (int k = 0; k < 3; ++k) d->mocap_pos[3 * mocap + k] = offset[k] + grip[k];
  for (int k = 0; k < 4; ++k) d->mocap_quat[4 * mocap + k] = rotation[k];
  for (int i = 0; i < 10; ++i)
    for (int k = 0; k < kFetchSubsteps; ++k) mj_step(m, d.get());
  for (int k = 0; k < 3; ++k) s->initial_gripper_xpos[static_cast<std::size_t>(k)] = d->site_xpos[3 * s->grip_site + k];
  if (p.has_object) s->height_offset = d->site_xpos[3 * s->object_site + 2];
  s->initial_time = d->time;
  s->initial_qpos.assign(d->qpos, d->qpos + m->nq);
  s->initial_qvel.assign(d->qvel, d->qvel + m->nv);
  return s;
}

class FetchEnv : public Env {
 public:
  static constexpr int kGoal = 3;

  static int ObsSize(bool has_object) { return has_object ? 25 : 10; }

  static EnvSpec Spec(bool has_object) {
    EnvSpec s;
    auto field = [](const char* name, int n) {
      FieldSpec f;
      f.name = name;
      f.dtype = DType::kFloat64;
      f.shape = {n};
      return f;
    };
    s.obs = {field("observation", ObsSize(has_object)), field("achieved_goal", kGoal), field("desired_goal", kGoal)};
    s.action.discrete = false;
    s.action.finite = true;
    s.action.box.name = "action";
    s.action.box.dtype = DType::kFloat32;
    s.action.box.shape = {4};
    s.action.box.low = {-1.0};
    s.action.box.high = {1.0};
    s.max_episode_steps = 50;
    s.info = {"is_success"};
    return s;
  }

  FetchEnv(std::shared_ptr<const FetchShared> shared, bool dense)
      : s_(std::move(shared)), p_(s_->params), dense_(dense), d_(MakeData(s_->model.get())) {}

  void Reset(Rng& rng, const ObsOut& out) override {
    const mjModel* m = s_->model.get();
    mjData* d = d_.get();
    ResetData(m, d, s_->initial_time, s_->initial_qpos, s_->initial_qvel);
    if (p_.has_object) {
      // Place the object at least 10 cm (in x, y) from the gripper.
      std::uniform_real_distribution<double> u(-p_.obj_range, p_.obj_range);
      const auto& g = s_->initial_gripper_xpos;
      double xy[2] = {g[0], g[1]};
      while (std::hypot(xy[0] - g[0], xy[1] - g[1]) < 0.1) {
        xy[0] = g[0] + u(rng);
        xy[1] = g[1] + u(rng);
      }
      d->qpos[s_->object_qpos] = xy[0];
      d->qpos[s_->object_qpos + 1] = xy[1];
    }
    mj_forward(m, d);
    SampleGoal(rng);
    WriteObs(out);
  }

  StepOutcome Step(const Action& action, Rng& /*rng*/, const ObsOut& out) override {
    const mjModel* m = s_->model.get();
    mjData* d = d_.get();
    float a[4];
    for (int k = 0; k < 4; ++k) a[k] = std::min(std::max(action.box[k], -1.0f), 1.0f);
    // _set_action(): position deltas scaled in float32 as numpy does, fixed rotation, gripper.
    double pos[3];
    for (int k = 0; k < 3; ++k) pos[k] = static_cast<double>(a[k] * 0.05f);
    double gripper = p_.block_gripper ? 0.0 : static_cast<double>(a[3]);
    // ctrl_set_action(): position actuators get a target relative to the current joint position.
    for (int i = 0; i < m->nu; ++i) {
      if (m->actuator_biastype[i] == mjBIAS_NONE)
        d->ctrl[i] = gripper;
      else
        d->ctrl[i] = d->qpos[m->jnt_qposadr[m->actuator_trnid[2 * i]]] + gripper;
    }
    // mocap_set_action(): move the mocap to the welded body, then by the delta.
    for (const auto& w : s_->welds) {
      for (int k = 0; k < 3; ++k) d->mocap_pos[3 * w.mocap + k] = d->xpos[3 * w.body + k];
      for (int k = 0; k < 4; ++k) d->mocap_quat[4 * w.mocap + k] = d->xquat[4 * w.body + k];
    }
    const double quat_delta[4] = {1.0, 0.0, 1.0, 0.0};
    for (int k = 0; k < 3; ++k) d->mocap_pos[k] += pos[k];
    for (int k = 0; k < 4; ++k) d->mocap_quat[k] += quat_delta[k];
    for (int k = 0; k < kFetchSubsteps; ++k) mj_step(m, d);
    CheckStable(d);
    // _step_callback(): a blocked gripper stays closed.
    if (p_.block_gripper) {
      d->qpos[s_->l_finger_qpos] = 0.0;
      d->qpos[s_->r_finger_qpos] = 0.0;
      mj_forward(m, d);
    }
    double dist = WriteObs(out);
    StepOutcome r;
    r.reward = GoalReward(dist, p_.distance_threshold, dense_);
    r.terminated = false;
    return r;
  }

  // state = qpos (nq) + qvel (nv) + desired_goal (3), applied on top of a reset.
  void SetState(const std::vector<double>& state, const ObsOut& out) override {
    ApplyFlatState(s_->model.get(), d_.get(), s_->initial_time, state, goal_.data(), kGoal);
    WriteObs(out);
  }

 private:
  void SampleGoal(Rng& rng) {
    std::uniform_real_distribution<double> u(-p_.target_range, p_.target_range);
    const auto& g = s_->initial_gripper_xpos;
    for (int k = 0; k < 3; ++k) goal_[static_cast<std::size_t>(k)] = g[static_cast<std::size_t>(k)] + u(rng);
    if (p_.has_object) {
      for (int k = 0; k < 3; ++k) goal_[static_cast<std::size_t>(k)] += p_.target_offset[static_cast<std::size_t>(k)];
      goal_[2] = s_->height_offset;
      std::uniform_real_distribution<double> unit(0.0, 1.0);
      if (p_.target_in_the_air && unit(rng) < 0.5) goal_[2] += std::uniform_real_distribution<double>(0.0, 0.45)(rng);
    }
  }

  // Writes the observation dict and is_success; returns |achieved_goal - desired_goal|.
  double WriteObs(const ObsOut& out) {
    const mjModel* m = s_->model.get();
    const mjData* d = d_.get();
    const double dt = s_->dt;
    double* obs = out.Field<double>(0);
    double* achieved = out.Field<double>(1);
    double* desired = out.Field<double>(2);
    const double* grip_pos = d->site_xpos + 3 * s_->grip_site;
    double grip_velp[3];
    SiteVelocity(m, d, s_->grip_site, false, jac_, grip_velp);
    for (double& v : grip_velp) v *= dt;
    std::size_t nr = s_->robot.qpos_adr.size();
    double gripper_state[2] = {d->qpos[s_->robot.qpos_adr[nr - 2]], d->qpos[s_->robot.qpos_adr[nr - 1]]};
    double gripper_vel[2] = {d->qvel[s_->robot.dof_adr[nr - 2]] * dt, d->qvel[s_->robot.dof_adr[nr - 1]] * dt};
    int i = 0;
    auto put = [&](const double* v, int n) {
      for (int k = 0; k < n; ++k) obs[i++] = v[k];
    };
    put(grip_pos, 3);
    if (p_.has_object) {
      const double* object_pos = d->site_xpos + 3 * s_->object_site;
      double rel[3], rot[3], velp[3], velr[3];
      for (int k = 0; k < 3; ++k) rel[k] = object_pos[k] - grip_pos[k];
      Mat2Euler(d->site_xmat + 9 * s_->object_site, rot);
      SiteVelocity(m, d, s_->object_site, false, jac_, velp);
      SiteVelocity(m, d, s_->object_site, true, jac_, velr);
      for (int k = 0; k < 3; ++k) {
        velp[k] = velp[k] * dt - grip_velp[k];
        velr[k] *= dt;
      }
      put(object_pos, 3);
      put(rel, 3);
      put(gripper_state, 2);
      put(rot, 3);
      put(velp, 3);
      put(velr, 3);
      for (int k = 0; k < 3; ++k) achieved[k] = object_pos[k];
    } else {
      put(gripper_state, 2);
      for (int k = 0; k < 3; ++k) achieved[k] = grip_pos[k];
    }
    put(grip_velp, 3);
    put(gripper_vel, 2);
    for (int k = 0; k < 3; ++k) desired[k] = goal_[static_cast<std::size_t>(k)];
    double dist = Distance(achieved, desired, kGoal);
    out.SetInfo(0, dist < p_.distance_threshold ? 1.0 : 0.0);
    return dist;
  }

  std::shared_ptr<const FetchShared> s_;
  const FetchParams& p_;  // s_->params
  bool dense_;
  DataPtr d_;
  std::array<double, 3> goal_{};
  std::vector<mjtNum> jac_;
};

}  // namespace envpool::robotics
