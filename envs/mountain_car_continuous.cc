#include "envs/mountain_car_continuous.h"

#include <algorithm>
#include <cmath>

namespace rlx {
namespace {

constexpr double kMinAction = -1.0;
constexpr double kMaxAction = 1.0;
constexpr double kMinPosition = -1.2;
constexpr double kMaxPosition = 0.6;
constexpr double kMaxSpeed = 0.07;
constexpr double kGoalPosition = 0.45;
constexpr double kGoalVelocity = 0.0;
constexpr double kPower = 0.0015;
constexpr double kGravity = 0.0025;

EnvSpec MakeSpec() {
  EnvSpec spec;
  spec.name = MountainCarContinuous::kName;
  spec.observation_space =
      Space::Box({static_cast<float>(kMinPosition), static_cast<float>(-kMaxSpeed)},
                 {static_cast<float>(kMaxPosition), static_cast<float>(kMaxSpeed)});
  spec.action_space =
      Space::Box({static_cast<float>(kMinAction)}, {static_cast<float>(kMaxAction)});
  spec.max_episode_steps = 999;
  spec.reward_threshold = 90.0;
  return spec;
}

}  // namespace

MountainCarContinuous::MountainCarContinuous() : ClassicEnv(MakeSpec()) {}

void MountainCarContinuous::ResetState() {
  state_.position = Uniform(-0.6, -0.4);
  state_.velocity = 0.0;
}

void MountainCarContinuous::Observe(std::vector<float>* observation) const {
  *observation = {static_cast<float>(state_.position), static_cast<float>(state_.velocity)};
}

void MountainCarContinuous::Advance(absl::Span<const float> action, double* reward,
                                    bool* terminated) {
  // The action was validated to lie in [kMinAction, kMaxAction].
  const double force = static_cast<double>(action[0]);
  double velocity =
      state_.velocity + force * kPower - kGravity * std::cos(3.0 * state_.position);
  velocity = std::clamp(velocity, -kMaxSpeed, kMaxSpeed);
  double position = std::clamp(state_.position + velocity, kMinPosition, kMaxPosition);
  if (position == kMinPosition && velocity < 0) velocity = 0.0;
  state_.position = position;
  state_.velocity = velocity;
  *terminated = position >= kGoalPosition && velocity >= kGoalVelocity;
  *reward = (*terminated ? 100.0 : 0.0) - 0.1 * force * force;
}

}  // namespace rlx
