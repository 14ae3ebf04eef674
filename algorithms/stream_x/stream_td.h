// Stream TD(lambda): prediction of the value of the policy that generated the
// transitions (docs/algorithms.md, "Stream TD(lambda)"). One value network
// with ObGD (kappa_value):
//   delta = r + gamma * V(s') * (1 - terminated) - V(s);  ObGD on V(s).
// Actors follow StreamConfig::td_policy (StreamActor). See learner.h for the
// shared contract.
#ifndef RLX_ALGORITHMS_STREAM_X_STREAM_TD_H_
#define RLX_ALGORITHMS_STREAM_X_STREAM_TD_H_

#include <memory>

#include "algorithms/stream_x/learner.h"

namespace rlx {

class StreamTdLearner final : public StreamLearner {
 public:
  static absl::StatusOr<std::unique_ptr<StreamLearner>> Create(const ProblemSpec& problem,
                                                               const StreamConfig& config,
                                                               uint64_t seed,
                                                               const NetworkFactory& factory);

 private:
  StreamTdLearner(const ProblemSpec& problem, const StreamConfig& config,
                  std::vector<std::unique_ptr<Network>> networks);
  void Update(const Step& step, StreamState* stream, LearnInfo* info) override;
  absl::Status ValidateAction(absl::Span<const float> action) const override;
  int acting_network() const override { return -1; }

  Obgd value_optimizer_;
};

// Shared by the algorithms: the network for a problem with output_dim
// outputs, sparsely initialised from seed.
NetworkSpec StreamNetworkSpec(const ProblemSpec& problem, const StreamConfig& config,
                              int64_t output_dim, uint64_t seed);
// INVALID_ARGUMENT unless action is one integral element in [0, num_actions)
// (discrete) or action_dim finite values (continuous).
absl::Status ValidateStreamAction(const ProblemSpec& problem, absl::Span<const float> action);

}  // namespace rlx

#endif  // RLX_ALGORITHMS_STREAM_X_STREAM_TD_H_
