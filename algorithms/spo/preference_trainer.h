// In-process learning from preferences (docs/algorithms.md, "SPO"): PPO's
// rollouts (num_envs x num_steps, one batched forward pass per step), with
// the reward of each step chosen by `source`:
//   kSpo          0 on every step but an episode's last, which gets the
//                 episode's win rate against `opponents` others drawn from the
//                 episodes that ended in the same rollout (its group) and a
//                 queue of the last queue_size episodes;
//   kRewardModel  iterative reward-model RLHF: the same preference queries
//                 (each ended episode against `opponents` others) train a
//                 Bradley-Terry reward model (reward_model.h); every step gets
//                 the model's reward;
//   kTrueReward   the env's reward (PPO's reference).
// Rollouts are cut every num_steps steps, so a reward known only when an
// episode ends lands on its last step (the critic carries it back across
// rollouts); a truncation ends the trajectory like a termination (the
// comparison is of what happened). The true return of every episode is
// recorded, and, for one-step games (PreferenceGame-v0), the policy's
// action distribution after every update. Blocking; not thread-safe.
#ifndef RLX_ALGORITHMS_SPO_PREFERENCE_TRAINER_H_
#define RLX_ALGORITHMS_SPO_PREFERENCE_TRAINER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "algorithms/ppo/ppo_config.h"
#include "algorithms/ppo/ppo_trainer.h"
#include "algorithms/spo/job_config.h"
#include "algorithms/preferences.h"
#include "preference.pb.h"

namespace rlx::spo {

enum class RewardSource { kSpo, kRewardModel, kTrueReward };

struct PreferenceTrainOptions {
  std::string env_name = "PreferenceGame-v0";
  ppo::PpoConfig ppo = SpoPpoDefaults();  // total_env_steps is set from steps when 0
  RewardSource source = RewardSource::kSpo;
  PreferenceFunctionSpec preference;
  // A PreferenceService (host:port) that answers instead of the local
  // function (remote_preferences.h: batched calls, retries on faults).
  std::string preference_address;
  int opponents = 8;             // preference queries per ended episode
  int queue_size = 256;          // recent episodes kept as opponents (SPO)
  int reward_model_epochs = 50;  // Adam steps per update (reward model)
  // The reward model's hidden layers: empty = linear (reward_model.h).
  std::vector<int64_t> reward_model_hidden;
  int reward_model_minibatch = 32;         // MLP: answers per Adam step
  double reward_model_learning_rate = 1e-3;  // MLP
  // SPO: learn only from whole episodes, once their win rates are known
  // (steps of unfinished episodes wait for the next update, their
  // behaviour log-probabilities one update old); false: fixed rollouts, the
  // win rate on the step where the episode ended within the rollout.
  bool whole_episodes = false;
  // SPO with whole_episodes: each step gets win_rate / length (the same
  // total) instead of the last step getting the win rate.
  bool spread = false;
  int64_t steps = 100000;
  uint64_t seed = 1;
  bool record_distributions = false;  // the action distribution at the first observation
  // After training: this many episodes of the final policy acting greedily
  // (the mode; the evaluator's way), on envs seeded apart from training's.
  int final_greedy_episodes = 0;
  // Appends -0.5 + t / time_limit (t = steps taken in the episode) to the
  // model's input when the env has a time limit.
  bool time_feature = true;
  // The time feature times this: its change per step is scale / time_limit
  // (1 / 500 on CartPole at 1, which a small tanh network barely resolves
  // to the few steps a time-dependent preference needs; docs/benchmarks.md,
  // "SPO", "Time resolution").
  double time_feature_scale = 1.0;
};

struct PreferenceTrainResult {
  std::vector<ppo::EpisodeRecord> episodes;  // true returns, in the order they ended
  std::vector<ppo::EpisodeRecord> greedy_episodes;  // final_greedy_episodes of them
  // The true return of each episode's last quarter (its steps from
  // ceil(3 n / 4) on: the non-markovian preference's tail), beside
  // `episodes` and `greedy_episodes`.
  std::vector<double> tail_returns;
  std::vector<double> greedy_tail_returns;
  std::vector<int64_t> queries_at_episode;   // preference queries asked when each ended
  std::vector<std::vector<double>> distributions;  // after each update (record_distributions)
  std::vector<double> final_distribution;
  // Mean of the distributions over the second half of the updates: the
  // average iterate, which self-play's guarantees are about.
  std::vector<double> average_distribution;
  int64_t queries = 0;
  int64_t env_steps = 0;
  // Share of the answers, on pairs whose true returns differ, that prefer
  // the lower return (noisy preferences: how often comparisons flip).
  double against_true_order = 0;
  int64_t failed_calls = 0;  // remote service: calls retried (away, slow, bad answers)
};

absl::StatusOr<PreferenceTrainResult> RunPreferenceTraining(const PreferenceTrainOptions& options);

// The Minimax Winner of a pairwise preference matrix M (M[i][j] = P(i
// preferred to j)): the mixed strategy p maximising min_j sum_i p_i
// (M[i][j] - 1/2), by fictitious play (`iterations` rounds; the empirical
// mixture converges to it).
std::vector<double> MinimaxWinner(const std::vector<std::vector<double>>& m,
                                  int iterations = 200000);

// PreferenceGame-v0's one-step trajectory for `action` (starting at 0), and
// the matrix M[i][j] = P(trajectory i preferred to trajectory j) of a
// preference function over its actions.
Trajectory PreferenceGameTrajectory(int action);
std::vector<std::vector<double>> PreferenceGameMatrix(const PreferenceFunction& preference);

// SPO's fixed point for a policy that can only move its outcome
// distribution, not reshape it (docs/benchmarks.md, "Where SPO settles").
// Outcomes are integers 0 .. n - 1 (e.g. episode lengths) with
// m[a][b] = P(a preferred to b); `sample` holds a policy's outcomes. The
// sample shifted by s (outcomes clamped to [0, n - 1]) plays against
// itself; SPO's push on s is the win rate of the sample shifted by s + h
// minus that of s - h, both against the sample shifted by s. Returns the
// first shift, from the one that puts the lowest outcome at 0, where the
// push turns from positive to negative (zeros in between, from ties, do not
// count), with the shifted outcomes there; the largest shift if it never
// turns.
struct ShiftFixedPoint {
  int shift = 0;
  std::vector<int> outcomes;
};
ShiftFixedPoint SelfPlayShiftFixedPoint(const std::vector<std::vector<double>>& m,
                                        const std::vector<int>& sample, int h = 5);

// The matrix M[a][b] = P(episode of length a preferred to one of length b)
// for lengths 0 .. max_length of a reward of 1 per step (CartPole's), for
// SelfPlayShiftFixedPoint over episode lengths.
std::vector<std::vector<double>> ConstantRewardLengthMatrix(const PreferenceFunction& preference,
                                                            int max_length);

// Total variation distance between two distributions.
double TotalVariation(const std::vector<double>& p, const std::vector<double>& q);

}  // namespace rlx::spo

#endif  // RLX_ALGORITHMS_SPO_PREFERENCE_TRAINER_H_
