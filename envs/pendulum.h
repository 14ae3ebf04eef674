// Pendulum-v1, as in Gymnasium's classic-control definition.
//
// State: [theta, theta_dot], theta measured from upright (0 = balanced).
// Observation: [cos theta, sin theta, theta_dot] (Box, bounds +-1, +-1, +-8).
// Actions: Box [-2, 2], the torque. Actions outside the box are an error, not
// clipped (callers sampling Gaussian actions clip before stepping).
// Dynamics (g = 10, m = 1, l = 1, dt = 0.05): theta_dot += (3 g / (2 l)
// sin theta + 3 / (m l^2) u) dt, clipped to +-8; theta += theta_dot dt (with
// the new theta_dot; theta itself is not wrapped). Reward, from the state
// before the step: -(angle_normalize(theta)^2 + 0.1 theta_dot^2 + 0.001 u^2),
// where angle_normalize maps onto [-pi, pi). Never terminates; truncates after
// 200 steps. The classic definition has no reward threshold: spec()
// .reward_threshold is 0, which no episode reaches in practice (every step's
// reward is <= 0). Initial state: theta uniform in [-pi, pi), theta_dot
// uniform in [-1, 1).
#ifndef RLX_ENVS_PENDULUM_H_
#define RLX_ENVS_PENDULUM_H_

#include <vector>

#include "absl/types/span.h"
#include "envs/classic_env.h"

namespace rlx {

class Pendulum : public ClassicEnv {
 public:
  static constexpr char kName[] = "Pendulum-v1";

  struct State {
    double theta = 0, theta_dot = 0;
  };

  Pendulum();

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

#endif  // RLX_ENVS_PENDULUM_H_
