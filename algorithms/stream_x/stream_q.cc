#include "algorithms/stream_x/stream_q.h"

#include <algorithm>

#include "core/status_macros.h"
#include "algorithms/stream_x/policy_heads.h"
#include "algorithms/stream_x/stream_td.h"

namespace rlx {

absl::StatusOr<std::unique_ptr<StreamLearner>> StreamQLearner::Create(
    const ProblemSpec& problem, const StreamConfig& config, uint64_t seed,
    const NetworkFactory& factory) {
  std::vector<std::unique_ptr<Network>> networks;
  ASSIGN_OR_RETURN(auto q, factory(StreamNetworkSpec(problem, config, problem.num_actions, DeriveSeed(seed, 3))));
  networks.push_back(std::move(q));
  return std::unique_ptr<StreamLearner>(new StreamQLearner(problem, config, std::move(networks)));
}

StreamQLearner::StreamQLearner(const ProblemSpec& problem, const StreamConfig& config,
                               std::vector<std::unique_ptr<Network>> networks)
    : StreamLearner(problem, config, std::move(networks), {"q"}),
      optimizer_(ObgdConfig{config.alpha, config.gamma, config.lambda, config.kappa_value}),
      q_(problem.num_actions),
      q_next_(problem.num_actions),
      cotangent_(problem.num_actions) {}

absl::Status StreamQLearner::ValidateAction(absl::Span<const float> action) const {
  return ValidateStreamAction(problem(), action);
}

void StreamQLearner::Update(const Step& step, StreamState* stream, LearnInfo* info) {
  Network& q = network(0);
  const int64_t a = static_cast<int64_t>(step.action[0]);
  double bootstrap = 0.0;
  if (!step.terminated) {
    q.Forward(step.next_observation, absl::MakeSpan(q_next_));
    bootstrap = config().gamma * *std::max_element(q_next_.begin(), q_next_.end());
  }
  q.Forward(step.observation, absl::MakeSpan(q_));  // last: Backward uses it
  info->value = q_[a];
  info->delta = step.reward + bootstrap - q_[a];
  info->exploratory = a != ArgMax(q_);
  std::fill(cotangent_.begin(), cotangent_.end(), 0.0f);
  cotangent_[a] = 1.0f;
  info->traces_reset = step.done || info->exploratory;
  info->value_step = optimizer_.StepNetwork(info->delta, cotangent_, &q,
                                            absl::MakeSpan(stream->traces[0]),
                                            info->traces_reset);
}

}  // namespace rlx
