// MountainCarContinuous-v0, as in Gymnasium's classic-control definition.
//
// Observation: [position, velocity] (Box [-1.2, 0.6] x [-0.07, 0.07]).
// Actions: Box [-1, 1], the force. Actions outside the box are an error, not
// clipped (callers sampling Gaussian actions clip before stepping).
// Dynamics: velocity += force * 0.0015 - 0.0025 * cos(3 * position), clipped
// to +-0.07; position += velocity, clipped to [-1.2, 0.6]; hitting the left
// wall while moving left zeroes the velocity. Terminates when
// position >= 0.45 and velocity >= 0. Reward: -0.1 * force^2 each step, plus
// 100 on the terminating step. Truncates after 999 steps; solved at 90.
// Initial state: position uniform in [-0.6, -0.4), velocity 0.
#ifndef RLX_ENVS_MOUNTAIN_CAR_CONTINUOUS_H_
#define RLX_ENVS_MOUNTAIN_CAR_CONTINUOUS_H_

#include <vector>

#include "absl/types/span.h"
#include "envs/classic_env.h"

namespace rlx {

class MountainCarContinuous : public ClassicEnv {
 public:
  static constexpr char kName[] = "MountainCarContinuous-v0";

  struct State {
    double position = 0, velocity = 0;
  };

  MountainCarContinuous();

  const State& state() const { return state_; }
  // Replaces the physical state of the current episode (for tests). The step
  // count and whether the episode is active are unchanged.
  void SetState(const State& state) { state_ = state; }

 protected:
  void ResetState() override;
  void Observe(std::vector<float>* observation) const override;
  void Advance(absl::Span<const float> action, double* reward, bool* terminated) override;

 private:
  State state_;
};

}  // namespace rlx

#endif  // RLX_ENVS_MOUNTAIN_CAR_CONTINUOUS_H_
