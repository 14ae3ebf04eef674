#include "evaluator/greedy_evaluation.h"

#include <algorithm>
#include <memory>

#include "absl/status/status.h"
#include "algorithms/registry.h"
#include "algorithms/seeds.h"
#include "core/status_macros.h"
#include "envs/registry.h"

namespace rlx {

absl::StatusOr<EvaluationResult> EvaluateGreedy(const JobSpec& spec,
                                                    const StateDict& parameters,
                                                    int64_t eval_index, int episodes,
                                                    const std::atomic<bool>* stop) {
  if (episodes < 1) return absl::InvalidArgumentError("episodes must be >= 1");
  ASSIGN_OR_RETURN(const AlgorithmRuntime* algorithm, FindAlgorithm(spec.algorithm()));
  ASSIGN_OR_RETURN(std::unique_ptr<Env> env, MakeEnv(spec.env()));
  ASSIGN_OR_RETURN(std::unique_ptr<GreedyPolicy> policy, algorithm->make_greedy_policy(spec));
  RETURN_IF_ERROR(policy->SetParameters(parameters));
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
  double sum = 0;
  for (double r : result.returns) sum += r;
  result.mean_return = sum / result.returns.size();
  result.min_return = *std::min_element(result.returns.begin(), result.returns.end());
  result.max_return = *std::max_element(result.returns.begin(), result.returns.end());
  return result;
}

}  // namespace rlx
