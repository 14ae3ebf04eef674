#include "envs/navigation_eval.h"

#include "envs/navigation_controllers.h"

namespace rlx {

absl::StatusOr<NavigationEvalResult> EvaluateNavigation(
    const NavigationConfig& config, int episodes, uint64_t seed, const NavigationPolicy& policy,
    const std::function<void(int episode, const NavigationEnv&)>& on_step) {
  absl::StatusOr<std::unique_ptr<NavigationEnv>> made = NavigationEnv::Create(config);
  if (!made.ok()) return made.status();
  NavigationEnv& env = **made;
  NavigationEvalResult out;
  int64_t successes = 0, reached = 0, collisions = 0, clean = 0;
  double time_sum = 0;
  std::vector<float> obs, actions;
  MultiAgentStepResult step;
  for (int e = 0; e < episodes; ++e) {
    env.Reset(seed + e, &obs);
    if (on_step) on_step(e, env);
    bool done = false;
    double total = 0;
    while (!done) {
      if (absl::Status s = policy(env, obs, &actions); !s.ok()) return s;
      if (absl::Status s = env.Step(actions, &step); !s.ok()) return s;
      out.agent_steps += env.num_agents();
      for (float r : step.rewards) total += r;
      obs.swap(step.observations);
      done = step.done();
      if (on_step) on_step(e, env);
    }
    for (const NavigationAgentStats& a : env.stats()) {
      successes += a.success();
      reached += a.reached;
      collisions += a.collisions;
      clean += !a.collided;
      if (a.reached) time_sum += a.reach_step * nav::kDt;
    }
    out.agent_episodes += env.num_agents();
    out.episode_returns.push_back(total / env.num_agents());
    out.mean_return += total / env.num_agents() / episodes;
    ++out.episodes;
  }
  const double n = static_cast<double>(out.agent_episodes);
  if (n > 0) {
    out.success_rate = successes / n;
    out.reach_rate = reached / n;
    out.collisions_per_agent = collisions / n;
    out.collision_free_rate = clean / n;
  }
  out.mean_time_to_goal = reached > 0 ? time_sum / reached : 0;
  return out;
}

absl::StatusOr<NavigationEvalResult> EvaluateNavigationController(
    const NavigationConfig& config, int episodes, uint64_t seed,
    const NavigationController& controller) {
  NavigationConfig direct = config;
  direct.residual = false;
  return EvaluateNavigation(
      direct, episodes, seed,
      [&](const NavigationEnv& env, const std::vector<float>&, std::vector<float>* u) {
        controller.Act(env, u);
        return absl::OkStatus();
      });
}

}  // namespace rlx
