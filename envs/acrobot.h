// Acrobot-v1, as in Gymnasium's classic-control definition (Sutton 1996; the
// "book" dynamics of Sutton & Barto).
//
// State: [theta1, theta2, dtheta1, dtheta2]; theta1 is the first link's angle
// from hanging straight down, theta2 the second link's angle relative to the
// first. Observation: [cos theta1, sin theta1, cos theta2, sin theta2,
// dtheta1, dtheta2] (Box, bounds +-1 and +-4 pi, +-9 pi). Actions:
// Discrete(3), torque -1, 0, +1 on the joint between the links (no torque
// noise). Integrator: one classic RK4 step of dt = 0.2 s; then both angles are
// wrapped into [-pi, pi] and the velocities clipped to +-4 pi and +-9 pi.
// Terminates when -cos(theta1) - cos(theta1 + theta2) > 1 (the free end is a
// link length above the pivot); reward -1 per step and 0 on the terminating
// step; truncates after 500 steps; solved at -100. Initial state: each
// component uniform in [-0.1, 0.1).
#ifndef RLX_ENVS_ACROBOT_H_
#define RLX_ENVS_ACROBOT_H_

#include <vector>

#include "absl/types/span.h"
#include "envs/classic_env.h"

namespace rlx {

class Acrobot : public ClassicEnv {
 public:
  static constexpr char kName[] = "Acrobot-v1";

  struct State {
    double theta1 = 0, theta2 = 0, dtheta1 = 0, dtheta2 = 0;
  };

  Acrobot();

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

#endif  // RLX_ENVS_ACROBOT_H_
