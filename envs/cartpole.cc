#include "envs/cartpole.h"

#include <cmath>
#include <limits>

namespace rlx {
namespace {

constexpr double kGravity = 9.8;
constexpr double kMassCart = 1.0;
constexpr double kMassPole = 0.1;
constexpr double kTotalMass = kMassCart + kMassPole;
constexpr double kLength = 0.5;  // half the pole's length
constexpr double kPoleMassLength = kMassPole * kLength;
constexpr double kForceMag = 10.0;
constexpr double kTau = 0.02;
constexpr double kThetaThreshold = 12 * 2 * kPi / 360;
constexpr double kXThreshold = 2.4;

EnvSpec MakeSpec() {
  constexpr float kMax = std::numeric_limits<float>::max();
  const float x = static_cast<float>(kXThreshold * 2);
  const float theta = static_cast<float>(kThetaThreshold * 2);
  EnvSpec spec;
  spec.name = CartPole::kName;
  spec.observation_space = Space::Box({-x, -kMax, -theta, -kMax}, {x, kMax, theta, kMax});
  spec.action_space = Space::Discrete(2);
  spec.max_episode_steps = 500;
  spec.reward_threshold = 475.0;
  return spec;
}

}  // namespace

CartPole::CartPole() : ClassicEnv(MakeSpec()) {}

void CartPole::ResetState() {
  state_.x = Uniform(-0.05, 0.05);
  state_.x_dot = Uniform(-0.05, 0.05);
  state_.theta = Uniform(-0.05, 0.05);
  state_.theta_dot = Uniform(-0.05, 0.05);
}

void CartPole::Observe(std::vector<float>* observation) const {
  *observation = {static_cast<float>(state_.x), static_cast<float>(state_.x_dot),
                  static_cast<float>(state_.theta), static_cast<float>(state_.theta_dot)};
}

void CartPole::Advance(absl::Span<const float> action, double* reward, bool* terminated) {
  const double force = action[0] == 1.0f ? kForceMag : -kForceMag;
  const double cos_theta = std::cos(state_.theta);
  const double sin_theta = std::sin(state_.theta);
  const double temp =
      (force + kPoleMassLength * state_.theta_dot * state_.theta_dot * sin_theta) / kTotalMass;
  const double theta_acc =
      (kGravity * sin_theta - cos_theta * temp) /
      (kLength * (4.0 / 3.0 - kMassPole * cos_theta * cos_theta / kTotalMass));
  const double x_acc = temp - kPoleMassLength * theta_acc * cos_theta / kTotalMass;

  state_.x += kTau * state_.x_dot;
  state_.x_dot += kTau * x_acc;
  state_.theta += kTau * state_.theta_dot;
  state_.theta_dot += kTau * theta_acc;

  *terminated = state_.x < -kXThreshold || state_.x > kXThreshold ||
                state_.theta < -kThetaThreshold || state_.theta > kThetaThreshold;
  *reward = 1.0;
}

}  // namespace rlx
