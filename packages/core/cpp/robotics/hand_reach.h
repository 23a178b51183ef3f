// HandReach (v3) with gymnasium-robotics 1.4.2 semantics: envs/shadow_dexterous_hand/reach.py
// (MujocoHandReachEnv), hand_env.py (MujocoHandEnv, absolute control) and robot_env.py.
#pragma once

#include <mujoco/mujoco.h>

#include <algorithm>
#include <array>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "../engine/env.h"
#include "mujoco_util.h"

namespace envpool::robotics {

constexpr int kHandSubsteps = 20;
constexpr int kHandActions = 20;
constexpr int kFingertips = 5;
constexpr double kHandDistanceThreshold = 0.01;

// DEFAULT_INITIAL_QPOS of reach.py.
inline const std::vector<std::pair<std::string, double>>& HandInitialQpos() {
  static const std::vector<std::pair<std::string, double>> q = {
      {"robot0:WRJ1", -0.16514339750464327}, {"robot0:WRJ0", -0.31973286565062153},
      {"robot0:FFJ3", 0.14340512546557435},  {"robot0:FFJ2", 0.32028208333591573},
      {"robot0:FFJ1", 0.7126053607727917},   {"robot0:FFJ0", 0.6705281001412586},
      {"robot0:MFJ3", 0.000246444303701037}, {"robot0:MFJ2", 0.3152655251085491},
      {"robot0:MFJ1", 0.7659800313729842},   {"robot0:MFJ0", 0.7323156897425923},
      {"robot0:RFJ3", 0.00038520700007378114}, {"robot0:RFJ2", 0.36743546201985233},
      {"robot0:RFJ1", 0.7119514095008576},   {"robot0:RFJ0", 0.6699446327514138},
      {"robot0:LFJ4", 0.0525442258033891},   {"robot0:LFJ3", -0.13615534724474673},
      {"robot0:LFJ2", 0.39872030433433003},  {"robot0:LFJ1", 0.7415570009679252},
      {"robot0:LFJ0", 0.704096378652974},    {"robot0:THJ4", 0.003673823825070126},
      {"robot0:THJ3", 0.5506291436028695},   {"robot0:THJ2", -0.014515151997119306},
      {"robot0:THJ1", -0.0015229223564485414}, {"robot0:THJ0", -0.7894883021600622},
  };
  return q;
}

struct HandShared {
  std::unique_ptr<mjModel, void (*)(mjModel*)> model{nullptr, mj_deleteModel};
  std::string file;
  std::array<int, kFingertips> tip_sites{};  // ff, mf, rf, lf, th
  RobotJoints robot;
  double initial_time = 0.0;
  std::vector<double> initial_qpos;
  std::vector<double> initial_qvel;
  std::array<double, 3 * kFingertips> initial_goal{};
  std::array<double, 3> palm_xpos{};
};

inline std::shared_ptr<const HandShared> LoadHand(const std::string& file) {
  auto s = std::make_shared<HandShared>();
  s->file = file;
  s->model.reset(LoadModel(file));
  const mjModel* m = s->model.get();
  CheckModelNumbers(m, file);
  if (m->nu != kHandActions)
    throw std::invalid_argument("model file " + file + " must have 20 actuators, has " + std::to_string(m->nu));
  if (m->na != 0) throw std::invalid_argument("model file " + file + " has activation states, which HandReach does not");
  const char* tips[kFingertips] = {"robot0:S_fftip", "robot0:S_mftip", "robot0:S_rftip", "robot0:S_lftip",
                                   "robot0:S_thtip"};
  for (int i = 0; i < kFingertips; ++i) s->tip_sites[static_cast<std::size_t>(i)] = RequireId(m, mjOBJ_SITE, tips[i], file);
  int palm = RequireId(m, mjOBJ_BODY, "robot0:palm", file);
  s->robot = FindRobotJoints(m, file);
  // _env_setup()
  DataPtr d = MakeData(m);
  for (const auto& [name, value] : HandInitialQpos()) SetJointQpos(m, d.get(), name, {value}, file);
  mj_forward(m, d.get());
  for (int i = 0; i < kFingertips; ++i)
    for (int k = 0; k < 3; ++k)
      s->initial_goal[static_cast<std::size_t>(3 * i + k)] = d->site_xpos[3 * s->tip_sites[static_cast<std::size_t>(i)] + k];
  for (int k = 0; k < 3; ++k) s->palm_xpos[static_cast<std::size_t>(k)] = d->xpos[3 * palm + k];
  s->initial_time = d->time;
  s->initial_qpos.assign(d->qpos, d->qpos + m->nq);
  s->initial_qvel.assign(d->qvel, d->qvel + m->nv);
  return s;
}

class HandReachEnv : public Env {
 public:
  static constexpr int kGoal = 3 * kFingertips;

  static EnvSpec Spec() {
    EnvSpec s;
    auto field = [](const char* name, int n) {
      FieldSpec f;
      f.name = name;
      f.dtype = DType::kFloat64;
      f.shape = {n};
      return f;
    };
    s.obs = {field("observation", 63), field("achieved_goal", kGoal), field("desired_goal", kGoal)};
    s.action.discrete = false;
    s.action.finite = true;
    s.action.box.name = "action";
    s.action.box.dtype = DType::kFloat32;
    s.action.box.shape = {kHandActions};
    s.action.box.low = {-1.0};
    s.action.box.high = {1.0};
    s.max_episode_steps = 50;
    s.info = {"is_success"};
    return s;
  }

  HandReachEnv(std::shared_ptr<const HandShared> shared, bool dense)
      : s_(std::move(shared)), dense_(dense), d_(MakeData(s_->model.get())) {
    std::size_t n = s_->robot.qpos_adr.size();
    if (2 * n + kGoal != 63)
      throw std::invalid_argument("model file " + s_->file + " has " + std::to_string(n) +
                                  " robot joints; HandReach expects 24");
  }

  void Reset(Rng& rng, const ObsOut& out) override {
    ResetData(s_->model.get(), d_.get(), s_->initial_time, s_->initial_qpos, s_->initial_qvel);
    mj_forward(s_->model.get(), d_.get());
    SampleGoal(rng);
    WriteObs(out);
  }

  StepOutcome Step(const Action& action, Rng& /*rng*/, const ObsOut& out) override {
    const mjModel* m = s_->model.get();
    mjData* d = d_.get();
    // MujocoHandEnv._set_action() with absolute control: the action spans each ctrlrange.
    for (int i = 0; i < kHandActions; ++i) {
      float a = std::min(std::max(action.box[i], -1.0f), 1.0f);
      double lo = m->actuator_ctrlrange[2 * i];
      double hi = m->actuator_ctrlrange[2 * i + 1];
      double ctrl = (hi + lo) / 2.0 + static_cast<double>(a) * ((hi - lo) / 2.0);
      d->ctrl[i] = std::min(std::max(ctrl, lo), hi);
    }
    for (int k = 0; k < kHandSubsteps; ++k) mj_step(m, d);
    CheckStable(d);
    double dist = WriteObs(out);
    StepOutcome r;
    r.reward = GoalReward(dist, kHandDistanceThreshold, dense_);
    return r;
  }

  // state = qpos (nq) + qvel (nv) + desired_goal (15), applied on top of a reset.
  void SetState(const std::vector<double>& state, const ObsOut& out) override {
    ApplyFlatState(s_->model.get(), d_.get(), s_->initial_time, state, goal_.data(), kGoal);
    WriteObs(out);
  }

 private:
  // _sample_goal(): thumb and one random finger meet near a jittered point in front of the palm;
  // with probability 0.1 the goal is the initial fingertip positions.
  void SampleGoal(Rng& rng) {
    int finger = std::uniform_int_distribution<int>(0, kFingertips - 2)(rng);
    std::normal_distribution<double> jitter(0.0, 0.005);
    double meeting[3] = {s_->palm_xpos[0] + 0.0, s_->palm_xpos[1] - 0.09, s_->palm_xpos[2] + 0.05};
    for (double& v : meeting) v += jitter(rng);
    goal_ = s_->initial_goal;
    for (int idx : {kFingertips - 1, finger}) {
      double dir[3];
      for (int k = 0; k < 3; ++k) dir[k] = meeting[k] - goal_[static_cast<std::size_t>(3 * idx + k)];
      double norm = std::sqrt(dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2]);
      for (int k = 0; k < 3; ++k) goal_[static_cast<std::size_t>(3 * idx + k)] = meeting[k] - 0.005 * (dir[k] / norm);
    }
    if (std::uniform_real_distribution<double>(0.0, 1.0)(rng) < 0.1) goal_ = s_->initial_goal;
  }

  double WriteObs(const ObsOut& out) {
    const mjData* d = d_.get();
    double* obs = out.Field<double>(0);
    double* achieved = out.Field<double>(1);
    double* desired = out.Field<double>(2);
    for (int i = 0; i < kFingertips; ++i)
      for (int k = 0; k < 3; ++k) achieved[3 * i + k] = d->site_xpos[3 * s_->tip_sites[static_cast<std::size_t>(i)] + k];
    int j = 0;
    for (int adr : s_->robot.qpos_adr) obs[j++] = d->qpos[adr];
    for (int adr : s_->robot.dof_adr) obs[j++] = d->qvel[adr];
    for (int k = 0; k < kGoal; ++k) obs[j++] = achieved[k];
    std::copy(goal_.begin(), goal_.end(), desired);
    double dist = Distance(achieved, desired, kGoal);
    out.SetInfo(0, dist < kHandDistanceThreshold ? 1.0 : 0.0);
    return dist;
  }

  std::shared_ptr<const HandShared> s_;
  bool dense_;
  DataPtr d_;
  std::array<double, kGoal> goal_{};
};

}  // namespace envpool::robotics
