#include "envs/multi_agent_env.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace rlx {

bool MultiAgentStepResult::done() const {
  for (size_t i = 0; i < terminated.size(); ++i) {
    if (!terminated[i] && !truncated[i]) return false;
  }
  return true;
}

absl::Status ValidateMultiAgentActions(const MultiAgentSpec& spec,
                                       absl::Span<const float> actions) {
  const int64_t width = spec.action_space.flat_size();
  if (static_cast<int64_t>(actions.size()) != spec.num_agents * width) {
    return absl::InvalidArgumentError(absl::StrCat("expected ", spec.num_agents, " x ", width,
                                                   " action values, got ", actions.size()));
  }
  // Fast path for a box: every value finite and inside its bounds (NaN
  // fails the comparisons); only a failure goes through the per-agent check
  // that names the problem.
  if (!spec.action_space.is_discrete()) {
    const float* low = spec.action_space.low.data();
    const float* high = spec.action_space.high.data();
    bool ok = true;
    for (int64_t k = 0; k < static_cast<int64_t>(actions.size()); ++k) {
      const int64_t d = k % width;
      ok &= actions[k] >= low[d] && actions[k] <= high[d] && std::isfinite(actions[k]);
    }
    if (ok) return absl::OkStatus();
  }
  for (int i = 0; i < spec.num_agents; ++i) {
    absl::Status s = ValidateAction(spec.action_space, actions.subspan(i * width, width));
    if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("agent ", i, ": ", s.message()));
  }
  return absl::OkStatus();
}

}  // namespace rlx
