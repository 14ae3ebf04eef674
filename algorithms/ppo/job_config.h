// PPO's and APPO's part of the job file (algorithms/algorithm_spec.h):
// PpoJobConfig's defaults (PpoConfig's, i.e. CleanRL's ppo.py with reward
// scaling; "appo" turns V-trace on and lets actors run two unrolls ahead),
// its checks, the memory estimate, and the PpoConfig the PPO code runs
// with. Torch-free.
#ifndef RLX_ALGORITHMS_PPO_JOB_CONFIG_H_
#define RLX_ALGORITHMS_PPO_JOB_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "job.pb.h"
#include "algorithms/algorithm_spec.h"
#include "algorithms/ppo/ppo_config.h"

namespace rlx::ppo {

void CompletePpoJob(JobSpec* spec);
void CompleteAppoJob(JobSpec* spec);
void CheckJob(const JobSpec& spec, const ProblemSpec& problem, std::vector<std::string>* errors);
absl::StatusOr<JobMemoryEstimate> EstimateJob(const JobSpec& spec, const ProblemSpec& problem);

// The job's PPO configuration: num_envs = unrolls_per_update, total_env_steps
// = stop.max_env_steps (spec completed).
PpoConfig JobPpoConfig(const JobSpec& spec);

// The same pieces for a PpoJobConfig inside another algorithm's config
// (SPO's): defaults (unrolls_per_update from the job's actors and envs),
// the PpoConfig, its checks with field names under `prefix`, the estimate.
void CompletePpoConfig(const JobSpec& spec, bool vtrace, PpoJobConfig* config);
PpoConfig PpoConfigFrom(const PpoJobConfig& config, const JobSpec& spec);
void CheckPpoConfig(const PpoConfig& config, const ProblemSpec& problem, const std::string& prefix,
                    std::vector<std::string>* errors);
absl::StatusOr<JobMemoryEstimate> EstimatePpo(const PpoConfig& config, const JobSpec& spec,
                                              const ProblemSpec& problem);

}  // namespace rlx::ppo

#endif  // RLX_ALGORITHMS_PPO_JOB_CONFIG_H_
