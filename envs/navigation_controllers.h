// Hand-written controllers for Navigation-v0 (envs/navigation.h), the
// baselines learned policies are measured against (docs/benchmarks.md):
//  - GoToGoal: GCBF+'s nominal controller. An LQR gain for the per-axis
//    double integrator (Q = 5 I, R = I on the discretised system) applied to
//    the error [goal - position, -velocity], the error scaled down to length
//    0.5 when longer, the force clipped to [-1, 1].
//  - GoToGoal plus repulsion: adds gain x sum over sensed agents j (and LiDAR
//    hits) of (p_i - p_j) / d x (1 / d - 1 / 0.5), i.e. a push away from
//    everything within the sensing radius that grows as it comes closer.
// Both act on the env's true state (positions, goals, LiDAR), not on the
// observation vector. Thread-compatible: const methods only.
#ifndef RLX_ENVS_NAVIGATION_CONTROLLERS_H_
#define RLX_ENVS_NAVIGATION_CONTROLLERS_H_

#include <vector>

#include "envs/navigation.h"

namespace rlx {

class NavigationController {
 public:
  // repulsion_gain 0: go-to-goal only.
  explicit NavigationController(double repulsion_gain = 0.0);
  // Per-axis LQR gain: u = k_position * e_position + k_velocity * e_velocity.
  double k_position() const { return k_position_; }
  double k_velocity() const { return k_velocity_; }
  // Forces for every agent of `env` (num_agents x 2) into *actions (resized).
  void Act(const NavigationEnv& env, std::vector<float>* actions) const;

 private:
  double repulsion_gain_;
  double k_position_ = 0, k_velocity_ = 0;
};

}  // namespace rlx

#endif  // RLX_ENVS_NAVIGATION_CONTROLLERS_H_
