#include "algorithms/stream_x/actor.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "algorithms/stream_x/observation.h"
#include "algorithms/stream_x/policy_heads.h"
#include "algorithms/stream_x/stream_ac.h"
#include "algorithms/stream_x/stream_td.h"

namespace rlx {

absl::StatusOr<std::unique_ptr<StreamActor>> StreamActor::Create(const ProblemSpec& problem,
                                                                 const StreamConfig& config,
                                                                 uint64_t seed,
                                                                 NetworkFactory factory) {
  RETURN_IF_ERROR(ValidateStreamConfig(problem, config));
  if (!factory) factory = BackendNetworkFactory(config.network);
  std::unique_ptr<Network> network;
  if (config.algorithm != StreamAlgorithm::kStreamTD) {
    const int64_t outputs = config.algorithm == StreamAlgorithm::kStreamQ
                                ? problem.num_actions
                                : PolicyOutputDim(problem);
    // Parameters come from Sync; the initial values are never used.
    ASSIGN_OR_RETURN(network, factory(StreamNetworkSpec(problem, config, outputs, /*seed=*/0)));
  }
  return std::unique_ptr<StreamActor>(
      new StreamActor(problem, config, seed, std::move(network)));
}

StreamActor::StreamActor(const ProblemSpec& problem, const StreamConfig& config, uint64_t seed,
                         std::unique_ptr<Network> network)
    : problem_(problem),
      config_(config),
      rng_(seed),
      network_(std::move(network)),
      statistics_(problem.observation_dim),
      raw_(problem.observation_dim),
      input_(NetworkInputDim(problem, config)),
      output_(network_ ? network_->output_dim() : 0) {}

absl::Status StreamActor::Sync(const PolicySnapshot& snapshot) {
  const size_t dim = static_cast<size_t>(problem_.observation_dim);
  if (snapshot.observation_mean.size() != dim || snapshot.observation_m2.size() != dim) {
    return absl::InvalidArgumentError("snapshot: normaliser statistics have the wrong size");
  }
  if (network_ != nullptr) {
    absl::Span<float> params = network_->params();
    if (snapshot.params.size() != params.size()) {
      return absl::InvalidArgumentError(absl::StrCat("snapshot: ", snapshot.params.size(),
                                                     " parameters, the actor's network has ",
                                                     params.size()));
    }
    std::copy(snapshot.params.begin(), snapshot.params.end(), params.begin());
  }
  statistics_.SetState(snapshot.observation_mean, snapshot.observation_m2,
                       snapshot.observation_count);
  snapshot_steps_ = snapshot.learner_steps;
  acts_since_sync_ = 0;
  synced_ = true;
  return absl::OkStatus();
}

void StreamActor::Observe(absl::Span<const float> raw_observation, bool episode_start) {
  episode_step_ = episode_start ? 0 : episode_step_ + 1;
  std::copy(raw_observation.begin(), raw_observation.end(), raw_.begin());
  if (update_statistics_) statistics_.Update(raw_observation);
  observed_ = true;
}

absl::Status StreamActor::Act(bool greedy, ActorAction* out) {
  if (!observed_) return absl::FailedPreconditionError("Act before Observe");
  if (network_ != nullptr && !synced_) return absl::FailedPreconditionError("Act before Sync");
  PreprocessObservation(problem_, config_, statistics_, raw_, episode_step_,
                        absl::MakeSpan(input_));
  out->exploratory = false;
  out->epsilon = 0;
  if (problem_.discrete) {
    out->action.resize(1);
    out->env_action.resize(1);
  } else {
    out->action.resize(problem_.action_dim);
    out->env_action.resize(problem_.action_dim);
  }

  switch (config_.algorithm) {
    case StreamAlgorithm::kStreamAC: {
      network_->Forward(input_, absl::MakeSpan(output_));
      if (problem_.discrete) {
        out->action[0] = static_cast<float>(greedy ? ArgMax(output_)
                                                   : SampleCategorical(output_, &rng_));
      } else if (greedy) {
        std::copy(output_.begin(), output_.begin() + problem_.action_dim, out->action.begin());
      } else {
        SampleGaussian(output_, &rng_, absl::MakeSpan(out->action));
      }
      break;
    }
    case StreamAlgorithm::kStreamQ: {
      network_->Forward(input_, absl::MakeSpan(output_));
      const int64_t best = ArgMax(output_);
      int64_t a = best;
      if (!greedy) {
        ++acts_since_sync_;
        out->epsilon = EpsilonAt(config_, snapshot_steps_ + acts_since_sync_);
        if (rng_.Uniform01() < out->epsilon) {
          a = rng_.UniformInt(problem_.num_actions);
          out->exploratory = a != best;
        }
      }
      out->action[0] = static_cast<float>(a);
      break;
    }
    case StreamAlgorithm::kStreamTD: {
      if (config_.td_policy == FixedPolicy::kCartPoleBalance) {
        // Push towards the side the pole falls to.
        out->action[0] = raw_[2] + raw_[3] > 0 ? 1.0f : 0.0f;
      } else if (problem_.discrete) {
        out->action[0] = static_cast<float>(rng_.UniformInt(problem_.num_actions));
      } else {
        for (int64_t i = 0; i < problem_.action_dim; ++i) {
          const double lo = problem_.action_low[i], hi = problem_.action_high[i];
          out->action[i] = static_cast<float>(lo + (hi - lo) * rng_.Uniform01());
        }
      }
      break;
    }
  }

  out->env_action = out->action;
  if (!problem_.discrete) {
    for (int64_t i = 0; i < problem_.action_dim; ++i) {
      out->env_action[i] =
          std::clamp(out->env_action[i], problem_.action_low[i], problem_.action_high[i]);
    }
  }
  return absl::OkStatus();
}

}  // namespace rlx
