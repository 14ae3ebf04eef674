// CartPole-v1, as in Gymnasium's classic-control definition (Barto, Sutton &
// Anderson 1983).
//
// Observation: [x, x_dot, theta, theta_dot] (Box, bounds +-4.8, +-FLT_MAX,
// +-0.4189 rad, +-FLT_MAX). Actions: Discrete(2), 0 pushes the cart left and 1
// right with a 10 N force. Integrator: explicit Euler with tau = 0.02 s (both
// accelerations are computed from the old state, then x += tau * x_dot,
// x_dot += tau * x_acc, theta += tau * theta_dot, theta_dot += tau * theta_acc).
// Reward +1 for every step, including the terminating one. Terminates when
// |x| > 2.4 or |theta| > 12 degrees; truncates after 500 steps; solved at 475.
// Initial state: each component uniform in [-0.05, 0.05).
#ifndef RLX_ENVS_CARTPOLE_H_
#define RLX_ENVS_CARTPOLE_H_

#include <vector>

#include "absl/types/span.h"
#include "envs/classic_env.h"

namespace rlx {

class CartPole : public ClassicEnv {
 public:
  static constexpr char kName[] = "CartPole-v1";

  struct State {
    double x = 0, x_dot = 0, theta = 0, theta_dot = 0;
  };

  CartPole();

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

#endif  // RLX_ENVS_CARTPOLE_H_
