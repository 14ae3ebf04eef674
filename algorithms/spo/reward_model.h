// The baseline SPO is compared with: iterative reward-model RLHF. A
// Bradley-Terry reward model r(s, a) = w . phi(s, a) with per-step features
// phi = [one-hot(action) for discrete actions or the action, observation];
// a trajectory's reward is the sum over its steps, and
// P(a preferred to b) = sigmoid(R(a) - R(b)). Fitted to every preference
// answers seen so far, the newest max_answers of them (logistic loss on
// soft labels, L2 1e-4, full-batch Adam). Linear in the features (an MLP without hidden layers): docs/
// algorithms.md, "SPO" says why. Torch-free; not thread-safe.
#ifndef RLX_ALGORITHMS_SPO_REWARD_MODEL_H_
#define RLX_ALGORITHMS_SPO_REWARD_MODEL_H_

#include <cstdint>
#include <deque>
#include <vector>

#include "absl/types/span.h"
#include "preference.pb.h"

namespace rlx::spo {

class RewardModel {
 public:
  // num_actions > 0 for discrete actions (one-hot), else action_dim floats.
  RewardModel(int64_t obs_dim, int64_t action_dim, int64_t num_actions,
              int64_t max_answers = 16384);

  // Summed features of a trajectory.
  std::vector<double> Features(const Trajectory& t) const;
  double Reward(const Trajectory& t) const;
  // r(s, a) of one step (action as the env took it: an index for discrete).
  double StepReward(absl::Span<const float> observation, absl::Span<const float> action) const;
  // One answer: label = P(a preferred to b) (or a 0/1 vote).
  void Add(const Trajectory& a, const Trajectory& b, double label);
  // `epochs` full-batch Adam steps on everything added so far.
  void Fit(int epochs, double learning_rate = 0.05);
  int64_t num_answers() const { return static_cast<int64_t>(labels_.size()); }
  const std::vector<double>& weights() const { return w_; }

 private:
  int64_t obs_dim_, action_dim_, num_actions_, max_answers_;
  std::vector<double> w_, m_, v_;
  int64_t adam_steps_ = 0;
  std::deque<std::vector<double>> diffs_;  // phi(a) - phi(b)
  std::deque<double> labels_;
};

}  // namespace rlx::spo

#endif  // RLX_ALGORITHMS_SPO_REWARD_MODEL_H_
