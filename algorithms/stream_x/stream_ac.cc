#include "algorithms/stream_x/stream_ac.h"

#include "core/status_macros.h"
#include "algorithms/stream_x/policy_heads.h"
#include "algorithms/stream_x/stream_td.h"

namespace rlx {

int64_t PolicyOutputDim(const ProblemSpec& problem) {
  return problem.discrete ? problem.num_actions : 2 * problem.action_dim;
}

absl::StatusOr<std::unique_ptr<StreamLearner>> StreamAcLearner::Create(
    const ProblemSpec& problem, const StreamConfig& config, uint64_t seed,
    const NetworkFactory& factory) {
  std::vector<std::unique_ptr<Network>> networks;
  ASSIGN_OR_RETURN(auto value, factory(StreamNetworkSpec(problem, config, 1, DeriveSeed(seed, 1))));
  ASSIGN_OR_RETURN(auto policy, factory(StreamNetworkSpec(problem, config, PolicyOutputDim(problem), DeriveSeed(seed, 2))));
  networks.push_back(std::move(value));
  networks.push_back(std::move(policy));
  return std::unique_ptr<StreamLearner>(
      new StreamAcLearner(problem, config, std::move(networks)));
}

StreamAcLearner::StreamAcLearner(const ProblemSpec& problem, const StreamConfig& config,
                                 std::vector<std::unique_ptr<Network>> networks)
    : StreamLearner(problem, config, std::move(networks), {"value", "policy"}),
      value_optimizer_(ObgdConfig{config.alpha, config.gamma, config.lambda, config.kappa_value}),
      policy_optimizer_(
          ObgdConfig{config.alpha, config.gamma, config.lambda, config.kappa_policy}),
      head_(PolicyOutputDim(problem)),
      cotangent_(PolicyOutputDim(problem)) {}

absl::Status StreamAcLearner::ValidateAction(absl::Span<const float> action) const {
  return ValidateStreamAction(problem(), action);
}

void StreamAcLearner::Update(const Step& step, StreamState* stream, LearnInfo* info) {
  Network& value = network(0);
  Network& policy = network(1);

  // Critic.
  float v_next = 0.0f, v = 0.0f;
  if (!step.terminated) value.Forward(step.next_observation, absl::MakeSpan(&v_next, 1));
  value.Forward(step.observation, absl::MakeSpan(&v, 1));  // last: Backward uses it
  const double bootstrap = step.terminated ? 0.0 : config().gamma * v_next;
  info->value = v;
  info->delta = step.reward + bootstrap - v;
  const float one = 1.0f;
  // The networks are separate: the critic's step before the actor's forward
  // changes nothing the actor computes.
  info->value_step = value_optimizer_.StepNetwork(info->delta, absl::MakeConstSpan(&one, 1),
                                                  &value, absl::MakeSpan(stream->traces[0]),
                                                  /*reset_trace=*/step.done);

  // Actor: gradient of log pi(a|s) + entropy_coef * sign(delta) * H.
  policy.Forward(step.observation, absl::MakeSpan(head_));
  const double sign = info->delta > 0 ? 1.0 : (info->delta < 0 ? -1.0 : 0.0);
  const double entropy_weight = config().entropy_coef * sign;
  const PolicyStats stats =
      problem().discrete
          ? CategoricalCotangent(head_, static_cast<int64_t>(step.action[0]), entropy_weight,
                                 absl::MakeSpan(cotangent_))
          : GaussianCotangent(head_, step.action, entropy_weight, absl::MakeSpan(cotangent_));
  info->log_prob = stats.log_prob;
  info->entropy = stats.entropy;
  info->policy_step = policy_optimizer_.StepNetwork(info->delta, cotangent_, &policy,
                                                    absl::MakeSpan(stream->traces[1]),
                                                    /*reset_trace=*/step.done);
  info->traces_reset = step.done;
}

}  // namespace rlx
