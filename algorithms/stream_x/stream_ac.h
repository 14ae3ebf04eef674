// Stream AC(lambda), discrete (categorical) or continuous (Gaussian) actions
// (docs/algorithms.md, "Stream AC(lambda)" and "Policy heads"). Separate value
// and policy networks, each with its own ObGD (kappa_value = 2, kappa_policy = 3
// by default):
//   delta = r + gamma * V(s') * (1 - terminated) - V(s);
//   value:  ObGD on V(s);
//   policy: ObGD on log pi(a|s) + entropy_coef * sign(delta) * H(pi(.|s)),
//   both with the critic's delta; traces zeroed after the update at episode
//   end. The policy network outputs logits (discrete) or [mean, pre_std]
//   (continuous, std = softplus(pre_std)); the transition's action is the
//   unclipped sample.
#ifndef RLX_ALGORITHMS_STREAM_X_STREAM_AC_H_
#define RLX_ALGORITHMS_STREAM_X_STREAM_AC_H_

#include <memory>
#include <vector>

#include "algorithms/stream_x/learner.h"

namespace rlx {

class StreamAcLearner final : public StreamLearner {
 public:
  static absl::StatusOr<std::unique_ptr<StreamLearner>> Create(const ProblemSpec& problem,
                                                               const StreamConfig& config,
                                                               uint64_t seed,
                                                               const NetworkFactory& factory);

 private:
  StreamAcLearner(const ProblemSpec& problem, const StreamConfig& config,
                  std::vector<std::unique_ptr<Network>> networks);
  void Update(const Step& step, StreamState* stream, LearnInfo* info) override;
  absl::Status ValidateAction(absl::Span<const float> action) const override;
  int acting_network() const override { return 1; }

  Obgd value_optimizer_;
  Obgd policy_optimizer_;
  std::vector<float> head_, cotangent_;
};

// Policy network outputs: num_actions logits, or 2 * action_dim.
int64_t PolicyOutputDim(const ProblemSpec& problem);

}  // namespace rlx

#endif  // RLX_ALGORITHMS_STREAM_X_STREAM_AC_H_
