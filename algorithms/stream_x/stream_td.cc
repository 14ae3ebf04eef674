#include "algorithms/stream_x/stream_td.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace rlx {

NetworkSpec StreamNetworkSpec(const ProblemSpec& problem, const StreamConfig& config,
                              int64_t output_dim, uint64_t seed) {
  NetworkSpec spec;
  spec.input_dim = NetworkInputDim(problem, config);
  spec.hidden = config.hidden;
  spec.output_dim = output_dim;
  spec.sparsity = config.sparsity;
  spec.seed = seed;
  return spec;
}

absl::Status ValidateStreamAction(const ProblemSpec& problem, absl::Span<const float> action) {
  if (problem.discrete) {
    if (action.size() != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("transition: a discrete action has 1 element, got ", action.size()));
    }
    const float a = action[0];
    if (!(a >= 0 && a < problem.num_actions) || a != std::floor(a)) {
      return absl::InvalidArgumentError(absl::StrCat("transition: action ", a,
                                                     " is not an integer in [0, ",
                                                     problem.num_actions, ")"));
    }
    return absl::OkStatus();
  }
  if (static_cast<int64_t>(action.size()) != problem.action_dim) {
    return absl::InvalidArgumentError(absl::StrCat("transition: action has ", action.size(),
                                                   " elements, expected ", problem.action_dim));
  }
  for (float a : action) {
    if (!std::isfinite(a)) return absl::InvalidArgumentError("transition: action not finite");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<StreamLearner>> StreamTdLearner::Create(
    const ProblemSpec& problem, const StreamConfig& config, uint64_t seed,
    const NetworkFactory& factory) {
  std::vector<std::unique_ptr<Network>> networks;
  ASSIGN_OR_RETURN(auto value, factory(StreamNetworkSpec(problem, config, 1, DeriveSeed(seed, 1))));
  networks.push_back(std::move(value));
  return std::unique_ptr<StreamLearner>(
      new StreamTdLearner(problem, config, std::move(networks)));
}

StreamTdLearner::StreamTdLearner(const ProblemSpec& problem, const StreamConfig& config,
                                 std::vector<std::unique_ptr<Network>> networks)
    : StreamLearner(problem, config, std::move(networks), {"value"}),
      value_optimizer_(ObgdConfig{config.alpha, config.gamma, config.lambda, config.kappa_value}) {}

absl::Status StreamTdLearner::ValidateAction(absl::Span<const float> action) const {
  return ValidateStreamAction(problem(), action);
}

void StreamTdLearner::Update(const Step& step, StreamState* stream, LearnInfo* info) {
  Network& value = network(0);
  float v_next = 0.0f, v = 0.0f;
  if (!step.terminated) value.Forward(step.next_observation, absl::MakeSpan(&v_next, 1));
  value.Forward(step.observation, absl::MakeSpan(&v, 1));  // last: Backward uses it
  const double bootstrap = step.terminated ? 0.0 : config().gamma * v_next;
  info->value = v;
  info->delta = step.reward + bootstrap - v;
  const float one = 1.0f;
  info->value_step = value_optimizer_.StepNetwork(info->delta, absl::MakeConstSpan(&one, 1),
                                                  &value, absl::MakeSpan(stream->traces[0]),
                                                  /*reset_trace=*/step.done);
  info->traces_reset = step.done;
}

}  // namespace rlx
