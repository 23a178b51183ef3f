// Classic control tasks with gymnasium 1.x dynamics, rewards and termination. The arithmetic
// follows gymnasium's expression order (and its float32 state where gymnasium keeps one) so the
// parity tests can compare trajectories step by step.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "../engine/env.h"

namespace envpool::classic_control {

constexpr double kPi = 3.14159265358979323846;
constexpr double kInf = std::numeric_limits<double>::infinity();

inline double Uniform(Rng& rng, double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }

inline FieldSpec BoxField(std::vector<double> low, std::vector<double> high) {
  FieldSpec f;
  f.name = "obs";
  f.dtype = DType::kFloat32;
  f.shape = {static_cast<std::int64_t>(low.size())};
  f.low = std::move(low);
  f.high = std::move(high);
  return f;
}

inline void CheckStateSize(const std::vector<double>& s, std::size_t n, const char* task) {
  if (s.size() != n)
    throw std::invalid_argument(std::string(task) + " state has " + std::to_string(n) + " values, got " +
                                std::to_string(s.size()));
}

class CartPole : public Env {
 public:
  static EnvSpec Spec() {
    EnvSpec s;
    const double theta2 = 12 * 2 * kPi / 360 * 2;
    s.obs.push_back(BoxField({-4.8, -kInf, -theta2, -kInf}, {4.8, kInf, theta2, kInf}));
    s.action.discrete = true;
    s.action.n = 2;
    s.max_episode_steps = 500;
    return s;
  }
  void Reset(Rng& rng, const ObsOut& out) override {
    for (double& v : s_) v = Uniform(rng, -0.05, 0.05);
    Write(out);
  }
  StepOutcome Step(const Action& a, Rng&, const ObsOut& out) override {
    constexpr double gravity = 9.8, masscart = 1.0, masspole = 0.1, total_mass = masspole + masscart;
    constexpr double length = 0.5, polemass_length = masspole * length, force_mag = 10.0, tau = 0.02;
    const double theta_threshold = 12 * 2 * kPi / 360, x_threshold = 2.4;
    double x = s_[0], x_dot = s_[1], theta = s_[2], theta_dot = s_[3];
    double force = a.discrete == 1 ? force_mag : -force_mag;
    double costheta = std::cos(theta), sintheta = std::sin(theta);
    double temp = (force + polemass_length * (theta_dot * theta_dot) * sintheta) / total_mass;
    double thetaacc =
        (gravity * sintheta - costheta * temp) / (length * (4.0 / 3.0 - masspole * (costheta * costheta) / total_mass));
    double xacc = temp - polemass_length * thetaacc * costheta / total_mass;
    x = x + tau * x_dot;
    x_dot = x_dot + tau * xacc;
    theta = theta + tau * theta_dot;
    theta_dot = theta_dot + tau * thetaacc;
    s_[0] = x;
    s_[1] = x_dot;
    s_[2] = theta;
    s_[3] = theta_dot;
    bool terminated = x < -x_threshold || x > x_threshold || theta < -theta_threshold || theta > theta_threshold;
    Write(out);
    return {1.0, terminated};
  }
  void SetState(const std::vector<double>& s, const ObsOut& out) override {
    CheckStateSize(s, 4, "CartPole");
    std::copy(s.begin(), s.end(), s_);
    Write(out);
  }

 private:
  void Write(const ObsOut& out) const {
    float* o = out.Field<float>(0);
    for (int i = 0; i < 4; ++i) o[i] = static_cast<float>(s_[i]);
  }
  double s_[4] = {0, 0, 0, 0};
};

class Pendulum : public Env {
 public:
  static EnvSpec Spec() {
    EnvSpec s;
    s.obs.push_back(BoxField({-1.0, -1.0, -8.0}, {1.0, 1.0, 8.0}));
    s.action.discrete = false;
    s.action.box = BoxField({-2.0}, {2.0});
    s.action.box.name = "action";
    s.max_episode_steps = 200;
    return s;
  }
  void Reset(Rng& rng, const ObsOut& out) override {
    th_ = Uniform(rng, -kPi, kPi);
    thdot_ = Uniform(rng, -1.0, 1.0);
    Write(out);
  }
  StepOutcome Step(const Action& a, Rng&, const ObsOut& out) override {
    constexpr double g = 10.0, m = 1.0, l = 1.0, dt = 0.05, max_speed = 8.0;
    // gymnasium keeps the clipped torque as float32 and mixes it with Python floats in float32.
    float u = std::min(std::max(a.box[0], -2.0f), 2.0f);
    double costs = Square(AngleNormalize(th_)) + 0.1 * (thdot_ * thdot_) + static_cast<double>(0.001f * (u * u));
    double newthdot =
        thdot_ + (3 * g / (2 * l) * std::sin(th_) + static_cast<double>(static_cast<float>(3.0 / (m * l * l)) * u)) * dt;
    newthdot = std::min(std::max(newthdot, -max_speed), max_speed);
    double newth = th_ + newthdot * dt;
    th_ = newth;
    thdot_ = newthdot;
    Write(out);
    return {-costs, false};
  }
  void SetState(const std::vector<double>& s, const ObsOut& out) override {
    CheckStateSize(s, 2, "Pendulum");
    th_ = s[0];
    thdot_ = s[1];
    Write(out);
  }

 private:
  static double Square(double x) { return x * x; }
  static double AngleNormalize(double x) {
    // Python's % on floats: the result takes the divisor's sign.
    double d = 2 * kPi;
    double r = std::fmod(x + kPi, d);
    if (r != 0.0 && r < 0) r += d;
    return r - kPi;
  }
  void Write(const ObsOut& out) const {
    float* o = out.Field<float>(0);
    o[0] = static_cast<float>(std::cos(th_));
    o[1] = static_cast<float>(std::sin(th_));
    o[2] = static_cast<float>(thdot_);
  }
  double th_ = 0, thdot_ = 0;
};

class MountainCar : public Env {
 public:
  static EnvSpec Spec() {
    EnvSpec s;
    s.obs.push_back(BoxField({-1.2, -0.07}, {0.6, 0.07}));
    s.action.discrete = true;
    s.action.n = 3;
    s.max_episode_steps = 200;
    return s;
  }
  void Reset(Rng& rng, const ObsOut& out) override {
    pos_ = Uniform(rng, -0.6, -0.4);
    vel_ = 0.0;
    Write(out);
  }
  StepOutcome Step(const Action& a, Rng&, const ObsOut& out) override {
    constexpr double min_position = -1.2, max_position = 0.6, max_speed = 0.07, goal_position = 0.5;
    constexpr double force = 0.001, gravity = 0.0025;
    vel_ += static_cast<double>(a.discrete - 1) * force + std::cos(3 * pos_) * (-gravity);
    vel_ = std::min(std::max(vel_, -max_speed), max_speed);
    pos_ += vel_;
    pos_ = std::min(std::max(pos_, min_position), max_position);
    if (pos_ == min_position && vel_ < 0) vel_ = 0;
    bool terminated = pos_ >= goal_position && vel_ >= 0;
    Write(out);
    return {-1.0, terminated};
  }
  void SetState(const std::vector<double>& s, const ObsOut& out) override {
    CheckStateSize(s, 2, "MountainCar");
    pos_ = s[0];
    vel_ = s[1];
    Write(out);
  }

 private:
  void Write(const ObsOut& out) const {
    float* o = out.Field<float>(0);
    o[0] = static_cast<float>(pos_);
    o[1] = static_cast<float>(vel_);
  }
  double pos_ = 0, vel_ = 0;
};

// gymnasium stores this env's state as float32 between steps; so do we.
class MountainCarContinuous : public Env {
 public:
  static EnvSpec Spec() {
    EnvSpec s;
    s.obs.push_back(BoxField({-1.2, -0.07}, {0.6, 0.07}));
    s.action.discrete = false;
    s.action.box = BoxField({-1.0}, {1.0});
    s.action.box.name = "action";
    s.max_episode_steps = 999;
    return s;
  }
  void Reset(Rng& rng, const ObsOut& out) override {
    pos_ = static_cast<float>(Uniform(rng, -0.6, -0.4));
    vel_ = 0.0f;
    Write(out);
  }
  StepOutcome Step(const Action& a, Rng&, const ObsOut& out) override {
    const float max_speed = 0.07f, min_position = -1.2f, max_position = 0.6f, goal_position = 0.45f;
    const float action = a.box[0];
    double c = std::cos(static_cast<double>(3.0f * pos_));
    float dv;
    if (action < -1.0f || action > 1.0f) {
      // The clipped force is a Python float: the sum is formed in float64, then added as float32.
      double force = action < -1.0f ? -1.0 : 1.0;
      dv = static_cast<float>(force * 0.0015 - 0.0025 * c);
    } else {
      dv = action * 0.0015f - static_cast<float>(0.0025 * c);
    }
    vel_ = vel_ + dv;
    if (vel_ > max_speed) vel_ = max_speed;
    if (vel_ < -max_speed) vel_ = -max_speed;
    pos_ = pos_ + vel_;
    if (pos_ > max_position) pos_ = max_position;
    if (pos_ < min_position) pos_ = min_position;
    if (pos_ == min_position && vel_ < 0) vel_ = 0;
    bool terminated = pos_ >= goal_position && vel_ >= 0;
    double reward = terminated ? 100.0 : 0.0;
    reward -= std::pow(static_cast<double>(action), 2) * 0.1;
    Write(out);
    return {reward, terminated};
  }
  void SetState(const std::vector<double>& s, const ObsOut& out) override {
    CheckStateSize(s, 2, "MountainCarContinuous");
    pos_ = static_cast<float>(s[0]);
    vel_ = static_cast<float>(s[1]);
    Write(out);
  }

 private:
  void Write(const ObsOut& out) const {
    float* o = out.Field<float>(0);
    o[0] = pos_;
    o[1] = vel_;
  }
  float pos_ = 0, vel_ = 0;
};

class Acrobot : public Env {
 public:
  static EnvSpec Spec() {
    EnvSpec s;
    s.obs.push_back(BoxField({-1, -1, -1, -1, -4 * kPi, -9 * kPi}, {1, 1, 1, 1, 4 * kPi, 9 * kPi}));
    s.action.discrete = true;
    s.action.n = 3;
    s.max_episode_steps = 500;
    return s;
  }
  void Reset(Rng& rng, const ObsOut& out) override {
    for (double& v : s_) v = Uniform(rng, -0.1, 0.1);
    Write(out);
  }
  StepOutcome Step(const Action& a, Rng&, const ObsOut& out) override {
    static const double kTorque[3] = {-1.0, 0.0, 1.0};
    double y0[5] = {s_[0], s_[1], s_[2], s_[3], kTorque[a.discrete]};
    // One classic RK4 step over [0, dt], as gymnasium's rk4() with t = [0, dt].
    const double dt = 0.2, dt2 = dt / 2.0;
    double k1[5], k2[5], k3[5], k4[5], y[5];
    Derivs(y0, k1);
    for (int i = 0; i < 5; ++i) y[i] = y0[i] + dt2 * k1[i];
    Derivs(y, k2);
    for (int i = 0; i < 5; ++i) y[i] = y0[i] + dt2 * k2[i];
    Derivs(y, k3);
    for (int i = 0; i < 5; ++i) y[i] = y0[i] + dt * k3[i];
    Derivs(y, k4);
    double ns[4];
    for (int i = 0; i < 4; ++i) ns[i] = y0[i] + dt / 6.0 * (((k1[i] + 2 * k2[i]) + 2 * k3[i]) + k4[i]);
    ns[0] = Wrap(ns[0], -kPi, kPi);
    ns[1] = Wrap(ns[1], -kPi, kPi);
    ns[2] = std::min(std::max(ns[2], -4 * kPi), 4 * kPi);
    ns[3] = std::min(std::max(ns[3], -9 * kPi), 9 * kPi);
    std::copy(ns, ns + 4, s_);
    bool terminated = -std::cos(s_[0]) - std::cos(s_[1] + s_[0]) > 1.0;
    Write(out);
    return {terminated ? 0.0 : -1.0, terminated};
  }
  void SetState(const std::vector<double>& s, const ObsOut& out) override {
    CheckStateSize(s, 4, "Acrobot");
    std::copy(s.begin(), s.end(), s_);
    Write(out);
  }

 private:
  static double Wrap(double x, double m, double M) {
    double diff = M - m;
    while (x > M) x = x - diff;
    while (x < m) x = x + diff;
    return x;
  }
  static void Derivs(const double* sa, double* out) {
    constexpr double m1 = 1.0, m2 = 1.0, l1 = 1.0, lc1 = 0.5, lc2 = 0.5, I1 = 1.0, I2 = 1.0, g = 9.8;
    double a = sa[4], theta1 = sa[0], theta2 = sa[1], dtheta1 = sa[2], dtheta2 = sa[3];
    double d1 = m1 * (lc1 * lc1) + m2 * ((l1 * l1) + (lc2 * lc2) + 2 * l1 * lc2 * std::cos(theta2)) + I1 + I2;
    double d2 = m2 * ((lc2 * lc2) + l1 * lc2 * std::cos(theta2)) + I2;
    double phi2 = m2 * lc2 * g * std::cos(theta1 + theta2 - kPi / 2.0);
    double phi1 = -m2 * l1 * lc2 * (dtheta2 * dtheta2) * std::sin(theta2) -
                  2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * std::sin(theta2) +
                  (m1 * lc1 + m2 * l1) * g * std::cos(theta1 - kPi / 2) + phi2;
    double ddtheta2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * (dtheta1 * dtheta1) * std::sin(theta2) - phi2) /
                      (m2 * (lc2 * lc2) + I2 - (d2 * d2) / d1);
    double ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
    out[0] = dtheta1;
    out[1] = dtheta2;
    out[2] = ddtheta1;
    out[3] = ddtheta2;
    out[4] = 0.0;
  }
  void Write(const ObsOut& out) const {
    float* o = out.Field<float>(0);
    o[0] = static_cast<float>(std::cos(s_[0]));
    o[1] = static_cast<float>(std::sin(s_[0]));
    o[2] = static_cast<float>(std::cos(s_[1]));
    o[3] = static_cast<float>(std::sin(s_[1]));
    o[4] = static_cast<float>(s_[2]);
    o[5] = static_cast<float>(s_[3]);
  }
  double s_[4] = {0, 0, 0, 0};
};

}  // namespace envpool::classic_control
