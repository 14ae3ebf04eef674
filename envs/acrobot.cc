#include "envs/acrobot.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace rlx {
namespace {

constexpr double kDt = 0.2;
constexpr double kLinkLength1 = 1.0;
constexpr double kLinkMass1 = 1.0;
constexpr double kLinkMass2 = 1.0;
constexpr double kLinkComPos1 = 0.5;
constexpr double kLinkComPos2 = 0.5;
constexpr double kLinkMoi = 1.0;
constexpr double kMaxVel1 = 4 * kPi;
constexpr double kMaxVel2 = 9 * kPi;
constexpr double kGravity = 9.8;
constexpr std::array<double, 3> kAvailableTorque = {-1.0, 0.0, 1.0};

using Vec4 = std::array<double, 4>;

// Time derivative of [theta1, theta2, dtheta1, dtheta2] under joint torque a
// (the "book" variant of the equations of motion).
Vec4 Derivatives(const Vec4& s, double a) {
  const double m1 = kLinkMass1, m2 = kLinkMass2;
  const double l1 = kLinkLength1;
  const double lc1 = kLinkComPos1, lc2 = kLinkComPos2;
  const double i1 = kLinkMoi, i2 = kLinkMoi;
  const double g = kGravity;
  const double theta1 = s[0], theta2 = s[1], dtheta1 = s[2], dtheta2 = s[3];

  const double d1 =
      m1 * lc1 * lc1 + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * std::cos(theta2)) + i1 + i2;
  const double d2 = m2 * (lc2 * lc2 + l1 * lc2 * std::cos(theta2)) + i2;
  const double phi2 = m2 * lc2 * g * std::cos(theta1 + theta2 - kPi / 2.0);
  const double phi1 = -m2 * l1 * lc2 * dtheta2 * dtheta2 * std::sin(theta2) -
                      2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * std::sin(theta2) +
                      (m1 * lc1 + m2 * l1) * g * std::cos(theta1 - kPi / 2.0) + phi2;
  const double ddtheta2 =
      (a + d2 / d1 * phi1 - m2 * l1 * lc2 * dtheta1 * dtheta1 * std::sin(theta2) - phi2) /
      (m2 * lc2 * lc2 + i2 - d2 * d2 / d1);
  const double ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
  return {dtheta1, dtheta2, ddtheta1, ddtheta2};
}

Vec4 AddScaled(const Vec4& y, double h, const Vec4& k) {
  return {y[0] + h * k[0], y[1] + h * k[1], y[2] + h * k[2], y[3] + h * k[3]};
}

// One fourth-order Runge-Kutta step of length dt (torque held constant).
Vec4 Rk4(const Vec4& y0, double a, double dt) {
  const Vec4 k1 = Derivatives(y0, a);
  const Vec4 k2 = Derivatives(AddScaled(y0, dt / 2, k1), a);
  const Vec4 k3 = Derivatives(AddScaled(y0, dt / 2, k2), a);
  const Vec4 k4 = Derivatives(AddScaled(y0, dt, k3), a);
  Vec4 y;
  for (int i = 0; i < 4; ++i) y[i] = y0[i] + dt / 6.0 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
  return y;
}

// Shifts x by multiples of (hi - lo) until it lies in [lo, hi]. Non-finite
// values (which the dynamics cannot produce) are returned as they are rather
// than looping forever.
double Wrap(double x, double lo, double hi) {
  if (!std::isfinite(x)) return x;
  const double diff = hi - lo;
  while (x > hi) x -= diff;
  while (x < lo) x += diff;
  return x;
}

EnvSpec MakeSpec() {
  const float v1 = static_cast<float>(kMaxVel1);
  const float v2 = static_cast<float>(kMaxVel2);
  EnvSpec spec;
  spec.name = Acrobot::kName;
  spec.observation_space =
      Space::Box({-1.f, -1.f, -1.f, -1.f, -v1, -v2}, {1.f, 1.f, 1.f, 1.f, v1, v2});
  spec.action_space = Space::Discrete(3);
  spec.max_episode_steps = 500;
  spec.reward_threshold = -100.0;
  return spec;
}

}  // namespace

Acrobot::Acrobot() : ClassicEnv(MakeSpec()) {}

void Acrobot::ResetState() {
  state_.theta1 = Uniform(-0.1, 0.1);
  state_.theta2 = Uniform(-0.1, 0.1);
  state_.dtheta1 = Uniform(-0.1, 0.1);
  state_.dtheta2 = Uniform(-0.1, 0.1);
}

void Acrobot::Observe(std::vector<float>* observation) const {
  *observation = {static_cast<float>(std::cos(state_.theta1)),
                  static_cast<float>(std::sin(state_.theta1)),
                  static_cast<float>(std::cos(state_.theta2)),
                  static_cast<float>(std::sin(state_.theta2)),
                  static_cast<float>(state_.dtheta1),
                  static_cast<float>(state_.dtheta2)};
}

void Acrobot::Advance(absl::Span<const float> action, double* reward, bool* terminated) {
  const double torque = kAvailableTorque[static_cast<int>(action[0])];
  const Vec4 s = {state_.theta1, state_.theta2, state_.dtheta1, state_.dtheta2};
  const Vec4 ns = Rk4(s, torque, kDt);
  state_.theta1 = Wrap(ns[0], -kPi, kPi);
  state_.theta2 = Wrap(ns[1], -kPi, kPi);
  state_.dtheta1 = std::clamp(ns[2], -kMaxVel1, kMaxVel1);
  state_.dtheta2 = std::clamp(ns[3], -kMaxVel2, kMaxVel2);
  *terminated = -std::cos(state_.theta1) - std::cos(state_.theta2 + state_.theta1) > 1.0;
  *reward = *terminated ? 0.0 : -1.0;
}

}  // namespace rlx
