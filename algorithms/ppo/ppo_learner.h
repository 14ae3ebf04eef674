// PpoLearner: one PPO update (docs/algorithms.md, "PPO") from a batch of
// unrolls: advantages by GAE(lambda) (synchronous PPO) or V-trace (APPO,
// config.vtrace: the unrolls came from older policies), then update_epochs
// passes over shuffled minibatches of the clipped surrogate objective, the
// clipped value loss and the entropy bonus, with per-minibatch advantage
// normalisation, global gradient-norm clipping and Adam (learning rate
// annealed linearly over config.total_env_steps).
//
// Unroll layout (Rollout): N unrolls of T consecutive steps of one env
// stream each, unroll-major (index n * T + t). Truncation bootstraps from the
// value of the episode's final observation; the last step bootstraps from
// V(next_observations[n]).
//
// Not thread-safe: one thread drives a learner.
#ifndef RLX_ALGORITHMS_PPO_PPO_LEARNER_H_
#define RLX_ALGORITHMS_PPO_PPO_LEARNER_H_

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "algorithms/ppo/ppo_config.h"
#include "algorithms/ppo/ppo_model.h"
#include "core/state_dict.h"

namespace rlx::ppo {

struct Rollout {
  int64_t num_unrolls = 0;  // N
  int64_t length = 0;       // T
  std::vector<float> observations;        // N*T x obs_dim
  std::vector<float> actions;             // N*T x action_width (the sampled, unclipped actions)
  std::vector<float> log_probs;           // N*T: behaviour policy's log-probabilities
  std::vector<float> values;              // N*T: behaviour critic's V(s_t) (GAE uses them)
  std::vector<float> rewards;             // N*T
  std::vector<uint8_t> terminated, truncated;  // N*T
  std::vector<float> final_observations;  // N*T x obs_dim: read where truncated
  std::vector<float> next_observations;   // N x obs_dim: after each unroll's last step

  // Sizes the arrays for N unrolls of T steps (contents unspecified).
  void Resize(int64_t n, int64_t t, int64_t obs_dim, int64_t action_width);
  // INVALID_ARGUMENT naming the first array whose size does not fit, or a
  // non-finite value.
  absl::Status Validate(int64_t obs_dim, int64_t action_width) const;
};

// One minibatch of samples, as the objective sees it (advantages already
// normalised when the config says so).
struct Minibatch {
  int64_t size = 0;
  std::vector<float> observations, actions, advantages, returns, old_log_probs, old_values;
  void Resize(int64_t n, int64_t obs_dim, int64_t action_width);
};

// Sums over a minibatch's samples, divided by its size.
struct MinibatchStats {
  double policy_loss = 0, value_loss = 0, entropy = 0, approx_kl = 0, clip_fraction = 0;
};

struct PpoUpdateInfo {
  double policy_loss = 0, value_loss = 0, entropy = 0;
  double approx_kl = 0, clip_fraction = 0, explained_variance = 0;
  double learning_rate = 0;
  double grad_norm = 0;  // before clipping, last minibatch
};

// What one Update did, step by step, for comparisons with another PPO from
// identical inputs (bench/ppo_parity_dump): recorded only while attached with
// PpoLearner::set_trace.
struct PpoUpdateTrace {
  double learning_rate = 0;
  std::vector<float> advantages, returns;  // N*T, unroll-major, before normalisation
  // Adam's state before the update (GetParameters order) and its step count.
  std::vector<float> adam_m, adam_v;
  int64_t adam_steps = 0;
  // update_epochs x N*T: each epoch's sample order; minibatch k of an epoch
  // is its entries [k * mb_size, (k + 1) * mb_size).
  std::vector<int64_t> orders;
  std::vector<MinibatchStats> minibatches;  // per minibatch, in the order run
  std::vector<double> grad_norms;           // per minibatch, before clipping
};

class PpoLearner {
 public:
  static absl::StatusOr<std::unique_ptr<PpoLearner>> Create(const ProblemSpec& problem,
                                                            const PpoConfig& config,
                                                            uint64_t seed);

  const PpoConfig& config() const { return config_; }
  PpoModel& model() { return model_; }
  const PpoModel& model() const { return model_; }
  int64_t updates() const { return updates_; }
  // Records every following Update into *trace (cleared first); null stops.
  void set_trace(PpoUpdateTrace* trace) { trace_ = trace; }

  // One update on `rollout`; its env steps count toward the schedule.
  absl::Status Update(const Rollout& rollout, PpoUpdateInfo* info);
  // Env steps of every rollout Update took.
  int64_t env_steps() const { return env_steps_; }

  // Parameters, Adam's moments, counters and the minibatch generator under
  // "learner/ppo/..."; Restore checks every size (on error: unchanged).
  void SaveState(StateDict* dict) const;
  absl::Status RestoreState(const StateDict& dict);

  // The objective on one minibatch at the current parameters:
  // policy_loss + vf_coef * value_loss - ent_coef * entropy, where
  // policy_loss = mean(max(-A r, -A clip(r, 1 - c, 1 + c))), r = pi / pi_old,
  // value_loss = 0.5 mean(max((v - R)^2, (v_old + clip(v - v_old, -c, c) - R)^2))
  // (without the clip term when clip_value_loss is off). With grad, writes
  // its gradient in GetParameters() order (resized). Used by Update; public
  // for tests.
  double MinibatchLoss(const Minibatch& mb, std::vector<float>* grad,
                       MinibatchStats* stats = nullptr);

 private:
  struct Adam {
    std::vector<float> m, v;
  };
  PpoLearner(const ProblemSpec& problem, const PpoConfig& config, uint64_t seed,
             std::unique_ptr<BatchFunction> actor, std::unique_ptr<BatchFunction> critic);
  void AdamStep(double lr);

  const PpoConfig config_;
  PpoModel model_;
  std::mt19937_64 rng_;
  int64_t updates_ = 0;
  int64_t env_steps_ = 0;
  int64_t adam_steps_ = 0;
  Adam adam_;
  // Scratch.
  std::vector<float> grad_;  // actor, critic, log_std (GetParameters order)
  std::vector<float> next_values_, advantages_, returns_, targets_values_, log_rhos_;
  Minibatch mb_;
  std::vector<float> lp_, ent_, g_lp_, g_ent_, grad_head_, grad_value_;
  std::vector<int64_t> order_;
  std::unique_ptr<BatchCache> actor_cache_, critic_cache_;
  PpoUpdateTrace* trace_ = nullptr;
};

}  // namespace rlx::ppo

#endif  // RLX_ALGORITHMS_PPO_PPO_LEARNER_H_
