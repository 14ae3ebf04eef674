// SPO's part of the job file (algorithms/algorithm_spec.h): SpoJobConfig's
// defaults (PPO's for the optimiser without reward scaling, gamma 1, the
// markovian function, the local preference_server, 8 opponents, a queue of
// 256, the time feature), its checks, the memory estimate, and the
// PpoConfig it runs with (the model's input one wider with the time
// feature). Torch-free.
#ifndef RLX_ALGORITHMS_SPO_JOB_CONFIG_H_
#define RLX_ALGORITHMS_SPO_JOB_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "algorithms/algorithm_spec.h"
#include "algorithms/ppo/ppo_config.h"
#include "job.pb.h"

namespace rlx::spo {

// PPO's defaults as SPO uses them: rewards as they come (no reward scaling,
// PPO's default elsewhere), the setting every SPO figure in
// docs/benchmarks.md was measured with; a win rate is already in [0, 1].
inline ppo::PpoConfig SpoPpoDefaults() {
  ppo::PpoConfig c;
  c.normalize_rewards = false;
  return c;
}

void CompleteJob(JobSpec* spec);
void CheckJob(const JobSpec& spec, const ProblemSpec& problem, std::vector<std::string>* errors);
absl::StatusOr<JobMemoryEstimate> EstimateJob(const JobSpec& spec, const ProblemSpec& problem);

// The optimiser's configuration (spec completed).
ppo::PpoConfig JobSpoPpoConfig(const JobSpec& spec);
// What the networks see: the env's problem, one input wider with the time
// feature (when the env has a time limit).
ProblemSpec SpoModelProblem(const JobSpec& spec, const ProblemSpec& env_problem);
// The time feature's scale for actors and the evaluator (UnrollFlavor::
// time_feature): spo.time_feature_scale, or 0 without it or a time limit.
double SpoTimeFeature(const JobSpec& spec, const ProblemSpec& env_problem);

}  // namespace rlx::spo

#endif  // RLX_ALGORITHMS_SPO_JOB_CONFIG_H_
