#include "envs/pendulum.h"

#include <algorithm>
#include <cmath>

namespace rlx {
namespace {

constexpr double kMaxSpeed = 8.0;
constexpr double kMaxTorque = 2.0;
constexpr double kDt = 0.05;
constexpr double kGravity = 10.0;
constexpr double kMass = 1.0;
constexpr double kLength = 1.0;

// ((x + pi) mod 2 pi) - pi with a floored modulo, as Python's % computes it.
double AngleNormalize(double x) {
  constexpr double kTwoPi = 2 * kPi;
  double m = std::fmod(x + kPi, kTwoPi);
  if (m < 0) m += kTwoPi;
  return m - kPi;
}

EnvSpec MakeSpec() {
  const float v = static_cast<float>(kMaxSpeed);
  const float u = static_cast<float>(kMaxTorque);
  EnvSpec spec;
  spec.name = Pendulum::kName;
  spec.observation_space = Space::Box({-1.f, -1.f, -v}, {1.f, 1.f, v});
  spec.action_space = Space::Box({-u}, {u});
  spec.max_episode_steps = 200;
  spec.reward_threshold = 0.0;  // none in the classic definition; see pendulum.h
  return spec;
}

}  // namespace

Pendulum::Pendulum() : ClassicEnv(MakeSpec()) {}

void Pendulum::ResetState() {
  state_.theta = Uniform(-kPi, kPi);
  state_.theta_dot = Uniform(-1.0, 1.0);
}

void Pendulum::Observe(std::vector<float>* observation) const {
  *observation = {static_cast<float>(std::cos(state_.theta)),
                  static_cast<float>(std::sin(state_.theta)),
                  static_cast<float>(state_.theta_dot)};
}

void Pendulum::Advance(absl::Span<const float> action, double* reward, bool* terminated) {
  // The action was validated to lie in [-kMaxTorque, kMaxTorque].
  const double u = static_cast<double>(action[0]);
  const double th = state_.theta;
  const double thdot = state_.theta_dot;
  const double norm_th = AngleNormalize(th);
  const double cost = norm_th * norm_th + 0.1 * thdot * thdot + 0.001 * u * u;

  double new_thdot =
      thdot + (3.0 * kGravity / (2.0 * kLength) * std::sin(th) +
               3.0 / (kMass * kLength * kLength) * u) *
                  kDt;
  new_thdot = std::clamp(new_thdot, -kMaxSpeed, kMaxSpeed);
  state_.theta = th + new_thdot * kDt;
  state_.theta_dot = new_thdot;
  *reward = -cost;
  *terminated = false;
}

}  // namespace rlx
