#include "learner/algorithms/config.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace rlx {

absl::StatusOr<StreamAlgorithm> ParseStreamAlgorithm(absl::string_view name) {
  if (name == "stream_ac") return StreamAlgorithm::kStreamAC;
  if (name == "stream_q") return StreamAlgorithm::kStreamQ;
  if (name == "stream_td") return StreamAlgorithm::kStreamTD;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown algorithm '", name, "' (stream_ac, stream_q, stream_td)"));
}

absl::string_view StreamAlgorithmName(StreamAlgorithm algorithm) {
  switch (algorithm) {
    case StreamAlgorithm::kStreamAC:
      return "stream_ac";
    case StreamAlgorithm::kStreamQ:
      return "stream_q";
    case StreamAlgorithm::kStreamTD:
      return "stream_td";
  }
  return "unknown";
}

absl::Status ValidateProblemSpec(const ProblemSpec& p) {
  if (p.observation_dim <= 0) return absl::InvalidArgumentError("observation_dim must be > 0");
  if (p.time_limit < 0) return absl::InvalidArgumentError("time_limit must be >= 0");
  if (p.discrete) {
    if (p.num_actions < 1) return absl::InvalidArgumentError("num_actions must be >= 1");
    return absl::OkStatus();
  }
  if (p.action_dim < 1) return absl::InvalidArgumentError("action_dim must be >= 1");
  if (static_cast<int64_t>(p.action_low.size()) != p.action_dim ||
      static_cast<int64_t>(p.action_high.size()) != p.action_dim) {
    return absl::InvalidArgumentError("action_low/action_high must have action_dim elements");
  }
  for (int64_t i = 0; i < p.action_dim; ++i) {
    if (!(p.action_low[i] <= p.action_high[i])) {
      return absl::InvalidArgumentError(absl::StrCat("action bound ", i, ": low > high"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateStreamConfig(const ProblemSpec& p, const StreamConfig& c) {
  if (absl::Status s = ValidateProblemSpec(p); !s.ok()) return s;
  auto bad = [](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("StreamConfig: ", what));
  };
  if (!(c.alpha > 0)) return bad("alpha must be > 0");
  if (!(c.gamma >= 0 && c.gamma <= 1)) return bad("gamma must be in [0, 1]");
  if (!(c.lambda >= 0 && c.lambda <= 1)) return bad("lambda must be in [0, 1]");
  if (!(c.kappa_value > 0) || !(c.kappa_policy > 0)) return bad("kappa must be > 0");
  if (!(c.entropy_coef >= 0)) return bad("entropy_coef must be >= 0");
  if (!(c.sparsity >= 0 && c.sparsity <= 1)) return bad("sparsity must be in [0, 1]");
  for (int64_t h : c.hidden) {
    if (h <= 0) return bad("hidden sizes must be > 0");
  }
  if (c.time_feature && p.time_limit <= 0) {
    return bad("time_feature needs a problem with a time limit");
  }
  if (c.algorithm == StreamAlgorithm::kStreamQ) {
    if (!p.discrete) return bad("stream_q needs a discrete action space");
    if (c.total_steps <= 0) return bad("stream_q needs total_steps > 0 (epsilon schedule)");
    if (!(c.exploration_fraction > 0)) return bad("exploration_fraction must be > 0");
    if (!(c.epsilon_start >= 0 && c.epsilon_start <= 1 && c.epsilon_end >= 0 &&
          c.epsilon_end <= 1)) {
      return bad("epsilon must be in [0, 1]");
    }
  }
  if (c.algorithm == StreamAlgorithm::kStreamTD && c.td_policy == FixedPolicy::kCartPoleBalance &&
      !(p.discrete && p.num_actions == 2 && p.observation_dim == 4)) {
    return bad("the CartPole balance policy needs 4 observations and 2 actions");
  }
  return absl::OkStatus();
}

int64_t NetworkInputDim(const ProblemSpec& problem, const StreamConfig& config) {
  return problem.observation_dim + (config.time_feature ? 1 : 0);
}

double EpsilonAt(const StreamConfig& c, int64_t act_index) {
  const double duration = c.exploration_fraction * static_cast<double>(c.total_steps);
  const double slope = (c.epsilon_end - c.epsilon_start) / duration;
  return std::max(slope * static_cast<double>(act_index) + c.epsilon_start, c.epsilon_end);
}

}  // namespace rlx
