// Stream Q(lambda) (Watkins), discrete actions (docs/algorithms.md, "Stream
// Q(lambda)"). One Q network with ObGD (kappa_value, default 2):
//   delta = r + gamma * max_a' Q(s', a') * (1 - terminated) - Q(s, a);
//   ObGD on Q(s, a); traces zeroed after the update at episode end and when a
//   was exploratory, i.e. a != argmax_a Q(s, .) under the learner's current
//   network (with an actor that lags by 0 versions this is exactly the actor's
//   "random action differed from the greedy one").
// Acting (epsilon-greedy, linear schedule) is StreamActor's job.
#ifndef RLX_ALGORITHMS_STREAM_X_STREAM_Q_H_
#define RLX_ALGORITHMS_STREAM_X_STREAM_Q_H_

#include <memory>
#include <vector>

#include "algorithms/stream_x/learner.h"

namespace rlx {

class StreamQLearner final : public StreamLearner {
 public:
  static absl::StatusOr<std::unique_ptr<StreamLearner>> Create(const ProblemSpec& problem,
                                                               const StreamConfig& config,
                                                               uint64_t seed,
                                                               const NetworkFactory& factory);

 private:
  StreamQLearner(const ProblemSpec& problem, const StreamConfig& config,
                 std::vector<std::unique_ptr<Network>> networks);
  void Update(const Step& step, StreamState* stream, LearnInfo* info) override;
  absl::Status ValidateAction(absl::Span<const float> action) const override;
  int acting_network() const override { return 0; }

  Obgd optimizer_;
  std::vector<float> q_, q_next_, cotangent_;
};

}  // namespace rlx

#endif  // RLX_ALGORITHMS_STREAM_X_STREAM_Q_H_
