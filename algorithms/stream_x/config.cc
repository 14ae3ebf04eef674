#include "algorithms/stream_x/config.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "envs/registry.h"
#include "models/backends.h"

namespace rlx {

absl::StatusOr<std::vector<int64_t>> ParseHiddenSizes(absl::string_view text) {
  std::vector<int64_t> sizes;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int64_t h = 0;
    if (!absl::SimpleAtoi(part, &h)) {
      return absl::InvalidArgumentError(absl::StrCat("--hidden: '", part, "' is not an integer"));
    }
    sizes.push_back(h);
  }
  return sizes;
}

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

std::vector<std::string> StreamConfigErrors(const ProblemSpec& p, const StreamConfig& c) {
  std::vector<std::string> errors;
  auto bad = [&errors](absl::string_view field, absl::string_view what, double got) {
    errors.push_back(absl::StrCat(field, ": ", what, ", got ", got));
  };
  if (!(c.alpha > 0) || !std::isfinite(c.alpha)) bad("alpha", "must be finite and > 0", c.alpha);
  if (!(c.gamma >= 0 && c.gamma <= 1)) bad("gamma", "must be in [0, 1]", c.gamma);
  if (!(c.lambda >= 0 && c.lambda <= 1)) bad("lambda", "must be in [0, 1]", c.lambda);
  if (!(c.kappa_value > 0) || !std::isfinite(c.kappa_value)) {
    bad("kappa_value", "must be finite and > 0", c.kappa_value);
  }
  if (!(c.kappa_policy > 0) || !std::isfinite(c.kappa_policy)) {
    bad("kappa_policy", "must be finite and > 0", c.kappa_policy);
  }
  if (!(c.entropy_coef >= 0) || !std::isfinite(c.entropy_coef)) {
    bad("entropy_coef", "must be finite and >= 0", c.entropy_coef);
  }
  if (!(c.sparsity >= 0 && c.sparsity <= 1)) bad("sparsity", "must be in [0, 1]", c.sparsity);
  for (size_t i = 0; i < c.hidden.size(); ++i) {
    if (c.hidden[i] <= 0) {
      bad(absl::StrCat("hidden[", i, "]"), "must be > 0", static_cast<double>(c.hidden[i]));
    }
  }
  if (absl::StatusOr<std::string> backend = ResolveNetworkBackend(c.network); !backend.ok()) {
    errors.push_back(absl::StrCat("network: ", backend.status().message()));
  }
  if (!(c.max_episode_steps >= 0 && c.max_episode_steps <= kMaxEpisodeStepsLimit)) {
    bad("max_episode_steps", absl::StrCat("must be in [0, ", kMaxEpisodeStepsLimit, "]"),
        static_cast<double>(c.max_episode_steps));
  }
  if (c.time_feature && p.time_limit <= 0) {
    errors.push_back("time_feature: needs an environment with a time limit");
  }
  if (c.algorithm == StreamAlgorithm::kStreamQ) {
    if (!p.discrete) errors.push_back("algorithm: stream_q needs a discrete action space");
    if (c.total_steps <= 0) {
      errors.push_back("total_steps: stream_q needs > 0 (the epsilon schedule's length)");
    }
    if (!(c.exploration_fraction > 0 && c.exploration_fraction <= 1)) {
      bad("exploration_fraction", "must be in (0, 1]", c.exploration_fraction);
    }
    if (!(c.epsilon_start >= 0 && c.epsilon_start <= 1)) {
      bad("epsilon_start", "must be in [0, 1]", c.epsilon_start);
    }
    if (!(c.epsilon_end >= 0 && c.epsilon_end <= 1)) {
      bad("epsilon_end", "must be in [0, 1]", c.epsilon_end);
    }
  }
  if (c.algorithm == StreamAlgorithm::kStreamTD && c.td_policy == FixedPolicy::kCartPoleBalance &&
      !(p.discrete && p.num_actions == 2 && p.observation_dim == 4)) {
    errors.push_back("td_policy: the CartPole balance policy needs 4 observations and 2 actions");
  }
  return errors;
}

ProblemSpec WithEpisodeLimit(ProblemSpec problem, const StreamConfig& config) {
  if (config.max_episode_steps > 0) problem.time_limit = config.max_episode_steps;
  return problem;
}

absl::StatusOr<std::unique_ptr<Env>> MakeTrainingEnv(absl::string_view env_name,
                                                     const StreamConfig& config) {
  absl::StatusOr<std::unique_ptr<Env>> env = MakeEnv(env_name);
  if (env.ok() && config.max_episode_steps > 0) {
    if (absl::Status s = (*env)->SetMaxEpisodeSteps(config.max_episode_steps); !s.ok()) return s;
  }
  return env;
}

absl::Status ValidateStreamConfig(const ProblemSpec& p, const StreamConfig& c) {
  if (absl::Status s = ValidateProblemSpec(p); !s.ok()) return s;
  const std::vector<std::string> errors = StreamConfigErrors(p, c);
  if (errors.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("StreamConfig: ", absl::StrJoin(errors, "; ")));
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
