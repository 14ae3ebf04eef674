// The baseline SPO is compared with: iterative reward-model RLHF. A
// Bradley-Terry reward model of a per-step reward r(s, a) on the features
// phi = [one-hot(action) for discrete actions or the action, observation];
// a trajectory's reward is the sum over its steps, and
// P(a preferred to b) = sigmoid(R(a) - R(b)). Fitted to the preference
// answers seen so far, the newest max_answers of them (logistic loss on
// soft labels, L2 1e-4, Adam). Two forms (docs/algorithms.md, "SPO"):
//   - hidden empty: linear, r = w . phi, full-batch Adam steps;
//   - hidden = {h1, ...}: an MLP (models/dense_mlp.h: tanh hidden layers,
//     linear output), minibatch Adam steps of `minibatch` answers; each
//     distinct trajectory's step features are stored once however many
//     answers name it.
// Torch-free; not thread-safe.
#ifndef RLX_ALGORITHMS_SPO_REWARD_MODEL_H_
#define RLX_ALGORITHMS_SPO_REWARD_MODEL_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <unordered_map>
#include <vector>

#include "absl/types/span.h"
#include "models/dense_mlp.h"
#include "preference.pb.h"

namespace rlx::spo {

struct RewardModelMlpOptions {
  std::vector<int64_t> hidden;  // empty: the linear model
  int minibatch = 32;           // answers per Adam step (MLP)
  double learning_rate = 1e-3;  // MLP (the linear model's Fit takes its own)
  uint64_t seed = 1;
};

class RewardModel {
 public:
  // num_actions > 0 for discrete actions (one-hot), else action_dim floats.
  using MlpOptions = RewardModelMlpOptions;
  RewardModel(int64_t obs_dim, int64_t action_dim, int64_t num_actions,
              int64_t max_answers = 16384, MlpOptions mlp = MlpOptions());
  ~RewardModel();

  int64_t feature_dim() const { return feature_dim_; }
  // Summed features of a trajectory.
  std::vector<double> Features(const Trajectory& t) const;
  double Reward(const Trajectory& t) const;
  // r(s, a) of one step (action as the env took it: an index for discrete).
  double StepReward(absl::Span<const float> observation, absl::Span<const float> action) const;
  // r(s, a) of n steps: observation k at observations + k * obs_stride (its
  // first obs_dim values are read), action k at actions + k * action_stride.
  void StepRewards(const float* observations, int64_t obs_stride, const float* actions,
                   int64_t action_stride, int64_t n, float* out) const;
  // One answer: label = P(a preferred to b) (or a 0/1 vote).
  void Add(const Trajectory& a, const Trajectory& b, double label);
  // `epochs` Adam steps: full-batch on everything added so far (linear), or
  // on minibatches of it (MLP, at MlpOptions::learning_rate).
  void Fit(int epochs, double learning_rate = 0.05);
  int64_t num_answers() const { return static_cast<int64_t>(labels_.size()); }
  const std::vector<double>& weights() const { return w_; }
  bool is_mlp() const { return mlp_ != nullptr; }

 private:
  // One trajectory's per-step features (length x feature_dim), shared by the
  // answers that name it.
  struct StepFeatures {
    std::vector<float> rows;
    int64_t length = 0;
  };
  void StepFeaturesOf(const float* observation, const float* action, float* out) const;
  std::shared_ptr<const StepFeatures> Stored(const Trajectory& t);
  void FitMlp(int steps);

  int64_t obs_dim_, action_dim_, num_actions_, max_answers_, feature_dim_;
  std::vector<double> w_, m_, v_;
  int64_t adam_steps_ = 0;
  std::deque<std::vector<double>> diffs_;  // phi(a) - phi(b) (linear)
  std::deque<double> labels_;
  // The MLP form.
  MlpOptions mlp_options_;
  std::unique_ptr<DenseMlp> mlp_;
  mutable std::unique_ptr<BatchCache> cache_;
  std::deque<std::pair<std::shared_ptr<const StepFeatures>, std::shared_ptr<const StepFeatures>>>
      pairs_;
  std::unordered_map<uint64_t, std::weak_ptr<const StepFeatures>> by_hash_;  // content hash
  std::vector<float> mlp_m_, mlp_v_, grad_;
  std::mt19937_64 rng_;
};

}  // namespace rlx::spo

#endif  // RLX_ALGORITHMS_SPO_REWARD_MODEL_H_
