#include "evaluator/greedy_evaluation.h"

#include <algorithm>
#include <memory>

#include "absl/status/status.h"
#include "core/status_macros.h"
#include "envs/registry.h"
#include "algorithms/stream_x/actor.h"
#include "algorithms/job_spec.h"
#include "algorithms/stream_x/stream_trainer.h"

namespace rlx {

uint64_t EvalSeedBase(const JobSpec& spec) {
  return spec.eval().seed() != 0 ? spec.eval().seed() : spec.seed();
}

uint64_t EvalEpisodeSeed(uint64_t base, int64_t eval_index, int episode) {
  return DeriveSeed(base, kEvalSeedTag + 1000 * static_cast<uint64_t>(eval_index + 1) + episode);
}

absl::StatusOr<EvaluationResult> EvaluateSnapshot(const JobSpec& spec,
                                                  const PolicySnapshot& snapshot,
                                                  int64_t eval_index, int episodes,
                                                  const std::atomic<bool>* stop) {
  if (episodes < 1) return absl::InvalidArgumentError("episodes must be >= 1");
  ASSIGN_OR_RETURN(ProblemSpec problem, JobProblem(spec));
  ASSIGN_OR_RETURN(StreamConfig config, JobStreamConfig(spec));
  ASSIGN_OR_RETURN(std::unique_ptr<Env> env, MakeEnv(spec.env()));
  const uint64_t base = EvalSeedBase(spec);
  ASSIGN_OR_RETURN(std::unique_ptr<StreamActor> actor,
                   StreamActor::Create(problem, config, DeriveSeed(base, kEvalSeedTag)));
  RETURN_IF_ERROR(actor->Sync(snapshot));
  actor->set_update_statistics(false);

  EvaluationResult result;
  std::vector<float> observation;
  StepResult step;
  ActorAction action;
  for (int e = 0; e < episodes; ++e) {
    if (stop != nullptr && stop->load()) return absl::CancelledError("evaluation stopped");
    env->Reset(EvalEpisodeSeed(base, eval_index, e), &observation);
    actor->Observe(observation, /*episode_start=*/true);
    double total = 0;
    while (true) {
      RETURN_IF_ERROR(actor->Act(/*greedy=*/true, &action));
      RETURN_IF_ERROR(env->Step(action.env_action, &step));
      ++result.env_steps;
      total += step.reward;
      if (step.done()) break;
      actor->Observe(step.observation, /*episode_start=*/false);
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
