// The in-process PPO trainer: one VectorEnv of config.num_envs envs, acting
// with the learner's own model (batched: one forward pass per step for all
// envs), a PPO update after every num_steps steps. The reference the
// distributed PPO job is measured against, and what bench/learning_bench and
// bench/ppo_bench run.
//
// Env i is reset with seed `seed + i`; acting draws from a generator seeded
// from `seed`. With config.normalize_observations / normalize_rewards each
// env has its own ObservationNormalizer / RewardScaler (normalization.h).
// Blocking; not thread-safe.
#ifndef RLX_ALGORITHMS_PPO_PPO_TRAINER_H_
#define RLX_ALGORITHMS_PPO_PPO_TRAINER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "algorithms/ppo/ppo_learner.h"

namespace rlx::ppo {

struct PpoTrainOptions {
  std::string env_name = "CartPole-v1";
  PpoConfig config;          // total_env_steps is set from `steps` when 0
  int64_t steps = 500000;    // env steps (rounded up to whole rollouts)
  uint64_t seed = 1;
  // Called after every update with the env steps so far (may be null).
  std::function<void(int64_t env_steps, const PpoUpdateInfo&)> on_update;
  // Called before every update with the rollout it will learn from (may be
  // null; for inspection, e.g. bench/ppo_parity_dump).
  std::function<void(const Rollout&, PpoLearner*)> before_update;
};

struct EpisodeRecord {
  int64_t env_step = 0;  // env steps taken (all envs) when the episode ended
  double episode_return = 0;
  int length = 0;
};

struct PpoTrainResult {
  std::vector<EpisodeRecord> episodes;  // in the order they ended
  int64_t env_steps = 0;
  double seconds = 0;                   // wall time of the whole run
  double update_seconds = 0;            // of which in PpoLearner::Update
  std::unique_ptr<PpoLearner> learner;
};

absl::StatusOr<PpoTrainResult> RunPpoTraining(const PpoTrainOptions& options);

// The first env step at which the mean of the last `window` training returns
// reaches `threshold`, or -1.
int64_t SolvedAt(const std::vector<EpisodeRecord>& episodes, double threshold, int window = 10);

}  // namespace rlx::ppo

#endif  // RLX_ALGORITHMS_PPO_PPO_TRAINER_H_
