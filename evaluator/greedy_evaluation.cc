#include "evaluator/greedy_evaluation.h"

#include <algorithm>
#include <memory>

#include "absl/status/status.h"
#include "algorithms/registry.h"
#include "algorithms/seeds.h"
#include "core/status_macros.h"
#include "absl/strings/str_cat.h"
#include "envs/multi_agent_registry.h"
#include "envs/navigation_eval.h"
#include "envs/navigation_svg.h"
#include "envs/registry.h"

namespace rlx {
namespace {

absl::StatusOr<EvaluationResult> EvaluateSingle(const JobSpec& spec, GreedyPolicy* policy,
                                                int64_t eval_index, int episodes,
                                                const std::atomic<bool>* stop);

absl::StatusOr<EvaluationResult> EvaluateSwarm(const JobSpec& spec, GreedyPolicy* policy,
                                               int64_t eval_index, int episodes,
                                               const std::atomic<bool>* stop) {
  ASSIGN_OR_RETURN(NavigationConfig config, ParseNavigationConfig(spec.env_options()));
  // "mixed" is a training distribution; evaluations use random starts and goals.
  if (config.scenario == NavigationScenario::kMixed) config.scenario = NavigationScenario::kRandom;
  std::vector<int> sizes(spec.eval().agents().begin(), spec.eval().agents().end());
  if (sizes.empty()) sizes.push_back(config.num_agents);
  const uint64_t seed = EvalEpisodeSeed(EvalSeedBase(spec), eval_index, 0);
  EvaluationResult result;
  const NavigationPolicy act = [&](const NavigationEnv& env, const std::vector<float>& obs,
                                   std::vector<float>* actions) -> absl::Status {
    if (stop != nullptr && stop->load()) return absl::CancelledError("evaluation stopped");
    return policy->ActBatch(obs, env.num_agents(), env.elapsed_steps() == 0, actions);
  };
  for (size_t k = 0; k < sizes.size(); ++k) {
    config.num_agents = sizes[k];
    NavigationPathRecorder paths;
    ASSIGN_OR_RETURN(NavigationEvalResult r,
                     EvaluateNavigation(config, episodes, seed, act,
                                        [&](int episode, const NavigationEnv& env) {
                                          if (k == 0 && episode == 0) paths.Record(env);
                                        }));
    result.env_steps += r.agent_steps;
    result.swarm.push_back({sizes[k], r.success_rate, r.reach_rate, r.collisions_per_agent,
                            r.mean_time_to_goal});
    if (k == 0) {
      result.returns = r.episode_returns;
      result.paths_svg = paths.Svg(absl::StrCat(spec.name(), ": greedy policy, N=", sizes[k],
                                                " (green: success, red: collided)"));
    }
  }
  return result;
}

}  // namespace

absl::StatusOr<EvaluationResult> EvaluateGreedy(const JobSpec& spec,
                                                    const StateDict& parameters,
                                                    int64_t eval_index, int episodes,
                                                    const std::atomic<bool>* stop) {
  if (episodes < 1) return absl::InvalidArgumentError("episodes must be >= 1");
  ASSIGN_OR_RETURN(const AlgorithmRuntime* algorithm, FindAlgorithm(spec.algorithm()));
  ASSIGN_OR_RETURN(std::unique_ptr<GreedyPolicy> policy, algorithm->make_greedy_policy(spec));
  RETURN_IF_ERROR(policy->SetParameters(parameters));
  EvaluationResult result;
  if (IsMultiAgentEnv(spec.env())) {
    ASSIGN_OR_RETURN(result, EvaluateSwarm(spec, policy.get(), eval_index, episodes, stop));
  } else {
    ASSIGN_OR_RETURN(result, EvaluateSingle(spec, policy.get(), eval_index, episodes, stop));
  }
  double sum = 0;
  for (double r : result.returns) sum += r;
  result.mean_return = sum / result.returns.size();
  result.min_return = *std::min_element(result.returns.begin(), result.returns.end());
  result.max_return = *std::max_element(result.returns.begin(), result.returns.end());
  return result;
}

namespace {

absl::StatusOr<EvaluationResult> EvaluateSingle(const JobSpec& spec, GreedyPolicy* policy,
                                                int64_t eval_index, int episodes,
                                                const std::atomic<bool>* stop) {
  ASSIGN_OR_RETURN(std::unique_ptr<Env> env, MakeEnv(spec.env()));
  const uint64_t base = EvalSeedBase(spec);
  EvaluationResult result;
  std::vector<float> observation, action;
  StepResult step;
  for (int e = 0; e < episodes; ++e) {
    if (stop != nullptr && stop->load()) return absl::CancelledError("evaluation stopped");
    env->Reset(EvalEpisodeSeed(base, eval_index, e), &observation);
    bool episode_start = true;
    double total = 0;
    while (true) {
      RETURN_IF_ERROR(policy->Act(episode_start ? absl::Span<const float>(observation)
                                                : absl::Span<const float>(step.observation),
                                  episode_start, &action));
      episode_start = false;
      RETURN_IF_ERROR(env->Step(action, &step));
      ++result.env_steps;
      total += step.reward;
      if (step.done()) break;
    }
    result.returns.push_back(total);
  }
  return result;
}

}  // namespace
}  // namespace rlx
