#include "envs/mountain_car.h"

#include <algorithm>
#include <cmath>

namespace rlx {
namespace {

constexpr double kMinPosition = -1.2;
constexpr double kMaxPosition = 0.6;
constexpr double kMaxSpeed = 0.07;
constexpr double kGoalPosition = 0.5;
constexpr double kGoalVelocity = 0.0;
constexpr double kForce = 0.001;
constexpr double kGravity = 0.0025;

EnvSpec MakeSpec() {
  EnvSpec spec;
  spec.name = MountainCar::kName;
  spec.observation_space =
      Space::Box({static_cast<float>(kMinPosition), static_cast<float>(-kMaxSpeed)},
                 {static_cast<float>(kMaxPosition), static_cast<float>(kMaxSpeed)});
  spec.action_space = Space::Discrete(3);
  spec.max_episode_steps = 200;
  spec.reward_threshold = -110.0;
  return spec;
}

}  // namespace

MountainCar::MountainCar() : ClassicEnv(MakeSpec()) {}

void MountainCar::ResetState() {
  state_.position = Uniform(-0.6, -0.4);
  state_.velocity = 0.0;
}

void MountainCar::Observe(std::vector<float>* observation) const {
  *observation = {static_cast<float>(state_.position), static_cast<float>(state_.velocity)};
}

void MountainCar::Advance(absl::Span<const float> action, double* reward, bool* terminated) {
  const double a = static_cast<double>(action[0]);
  double velocity =
      state_.velocity + (a - 1.0) * kForce + std::cos(3.0 * state_.position) * (-kGravity);
  velocity = std::clamp(velocity, -kMaxSpeed, kMaxSpeed);
  double position = std::clamp(state_.position + velocity, kMinPosition, kMaxPosition);
  if (position == kMinPosition && velocity < 0) velocity = 0.0;
  state_.position = position;
  state_.velocity = velocity;
  *terminated = position >= kGoalPosition && velocity >= kGoalVelocity;
  *reward = -1.0;
}

}  // namespace rlx
