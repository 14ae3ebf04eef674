// Runs whole Navigation-v0 episodes with a controller and sums up what the
// evaluator, the benchmarks and the tests report: success rate per agent,
// collisions per agent-episode and time to goal. Blocking; not thread-safe
// (one env per call).
#ifndef RLX_ENVS_NAVIGATION_EVAL_H_
#define RLX_ENVS_NAVIGATION_EVAL_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "envs/navigation.h"

namespace rlx {

struct NavigationEvalResult {
  int episodes = 0;
  int64_t agent_episodes = 0;
  double success_rate = 0;             // reached the goal and never collided
  double reach_rate = 0;               // reached the goal
  double collisions_per_agent = 0;     // contacts begun, per agent-episode
  double collision_free_rate = 0;      // never collided
  double mean_time_to_goal = 0;        // seconds, over agents that reached
  int64_t agent_steps = 0;
  std::vector<double> episode_returns;  // per episode: the agents' mean return
  double mean_return = 0;               // over episodes
};

// Called once per step with the env and the agents' observations (num_agents
// x width); writes num_agents x 2 forces into *actions.
using NavigationPolicy = std::function<absl::Status(
    const NavigationEnv& env, const std::vector<float>& observations, std::vector<float>* actions)>;

// `episodes` episodes of a NavigationEnv made from `config`, episode k reset
// with seed `seed + k`. on_step (optional) sees every step, e.g. to record
// paths.
absl::StatusOr<NavigationEvalResult> EvaluateNavigation(
    const NavigationConfig& config, int episodes, uint64_t seed, const NavigationPolicy& policy,
    const std::function<void(int episode, const NavigationEnv&)>& on_step = nullptr);

// The same for a hand-written controller (envs/navigation_controllers.h),
// which gives the force itself: `config.residual` is ignored.
class NavigationController;
absl::StatusOr<NavigationEvalResult> EvaluateNavigationController(
    const NavigationConfig& config, int episodes, uint64_t seed,
    const NavigationController& controller);

}  // namespace rlx

#endif  // RLX_ENVS_NAVIGATION_EVAL_H_
