// MountainCar-v0, as in Gymnasium's classic-control definition (Moore 1990).
//
// Observation: [position, velocity] (Box [-1.2, 0.6] x [-0.07, 0.07]).
// Actions: Discrete(3): 0 accelerate left, 1 coast, 2 accelerate right.
// Dynamics: velocity += (action - 1) * 0.001 - 0.0025 * cos(3 * position),
// clipped to +-0.07; position += velocity, clipped to [-1.2, 0.6]; hitting the
// left wall while moving left zeroes the velocity. Terminates when
// position >= 0.5 and velocity >= 0; reward -1 every step (the terminating one
// included); truncates after 200 steps; solved at -110. Initial state:
// position uniform in [-0.6, -0.4), velocity 0.
#ifndef RLX_ENVS_MOUNTAIN_CAR_H_
#define RLX_ENVS_MOUNTAIN_CAR_H_

#include <vector>

#include "absl/types/span.h"
#include "envs/classic_env.h"

namespace rlx {

class MountainCar : public ClassicEnv {
 public:
  static constexpr char kName[] = "MountainCar-v0";

  struct State {
    double position = 0, velocity = 0;
  };

  MountainCar();

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

#endif  // RLX_ENVS_MOUNTAIN_CAR_H_
