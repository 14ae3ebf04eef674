// In-process preference learning on one-step games (every env step is a
// whole trajectory, e.g. PreferenceGame-v0): SPO's intransitive experiment
// (docs/algorithms.md, "SPO"). Three ways to reward a rollout of
// num_envs x num_steps one-step trajectories, then one PPO update:
//   kSpo          each trajectory's win rate against `opponents` others drawn
//                 from the rollout (its group) and a queue of the last
//                 queue_size trajectories;
//   kRewardModel  iterative reward-model RLHF: the same number of preference
//                 queries (each trajectory against `opponents` others) train
//                 a Bradley-Terry reward model (reward_model.h), PPO learns
//                 on its reward;
//   kTrueReward   the env's reward (PPO's reference).
// The policy's action distribution (softmax at the game's one observation)
// is recorded after every update. Blocking; not thread-safe.
#ifndef RLX_ALGORITHMS_SPO_ONE_STEP_TRAINER_H_
#define RLX_ALGORITHMS_SPO_ONE_STEP_TRAINER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "algorithms/ppo/ppo_config.h"
#include "preference.pb.h"

namespace rlx::spo {

enum class RewardSource { kSpo, kRewardModel, kTrueReward };

struct OneStepOptions {
  std::string env_name = "PreferenceGame-v0";
  ppo::PpoConfig ppo;            // total_env_steps is set from steps when 0
  RewardSource source = RewardSource::kSpo;
  PreferenceFunctionSpec preference;
  int opponents = 8;             // preference queries per trajectory
  int queue_size = 256;          // recent trajectories kept as opponents (SPO)
  int reward_model_epochs = 50;  // Adam steps per update (reward model)
  int64_t steps = 100000;
  uint64_t seed = 1;
};

struct OneStepResult {
  std::vector<std::vector<double>> distributions;  // after each update
  std::vector<double> final_distribution;
  // Mean of the distributions over the second half of the updates: the
  // average iterate, which self-play's guarantees are about.
  std::vector<double> average_distribution;
  int64_t queries = 0;
  int64_t env_steps = 0;
};

absl::StatusOr<OneStepResult> RunOneStepTraining(const OneStepOptions& options);

// The Minimax Winner of a pairwise preference matrix M (M[i][j] = P(i
// preferred to j)): the mixed strategy p maximising min_j sum_i p_i
// (M[i][j] - 1/2), by fictitious play (`iterations` rounds; the empirical
// mixture converges to it).
std::vector<double> MinimaxWinner(const std::vector<std::vector<double>>& m,
                                  int iterations = 200000);

// Total variation distance between two distributions.
double TotalVariation(const std::vector<double>& p, const std::vector<double>& q);

}  // namespace rlx::spo

#endif  // RLX_ALGORITHMS_SPO_ONE_STEP_TRAINER_H_
