#include "envs/env.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace rlx {

int64_t Space::flat_size() const {
  if (is_discrete()) return 1;
  int64_t size = 1;
  for (int64_t d : shape) size *= d;
  return size;
}

Space Space::Box(std::vector<float> low, std::vector<float> high) {
  if (low.size() != high.size()) {
    std::fprintf(stderr, "Space::Box: low has %zu elements but high has %zu\n", low.size(),
                 high.size());
    std::abort();
  }
  Space space;
  space.kind = Kind::kBox;
  space.shape = {static_cast<int64_t>(low.size())};
  space.low = std::move(low);
  space.high = std::move(high);
  return space;
}

Space Space::Discrete(int64_t n) {
  Space space;
  space.kind = Kind::kDiscrete;
  space.n = n;
  return space;
}

absl::Status ValidateAction(const Space& space, absl::Span<const float> action) {
  const int64_t expected = space.flat_size();
  if (static_cast<int64_t>(action.size()) != expected) {
    return absl::InvalidArgumentError(absl::StrCat("action has ", action.size(),
                                                   " elements, expected ", expected));
  }
  for (size_t i = 0; i < action.size(); ++i) {
    const float a = action[i];
    if (std::isnan(a)) {
      return absl::InvalidArgumentError(absl::StrCat("action[", i, "] is NaN"));
    }
    if (std::isinf(a)) {
      return absl::InvalidArgumentError(absl::StrFormat("action[%d] = %g is not finite", i, a));
    }
    if (space.is_discrete()) {
      if (a != std::floor(a)) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "action[%d] = %.9g is not an integer (discrete action space)", i, a));
      }
      if (a < 0 || a >= static_cast<float>(space.n)) {
        return absl::InvalidArgumentError(
            absl::StrFormat("action[%d] = %.9g is out of range [0, %d)", i, a, space.n));
      }
    } else {
      if (i < space.low.size() && a < space.low[i]) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "action[%d] = %.9g is below the lower bound %.9g", i, a, space.low[i]));
      }
      if (i < space.high.size() && a > space.high[i]) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "action[%d] = %.9g is above the upper bound %.9g", i, a, space.high[i]));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Env::SetMaxEpisodeSteps(int max_episode_steps) {
  return absl::UnimplementedError(absl::StrCat(
      spec().name, " has no step limit to change (asked for ", max_episode_steps, ")"));
}

}  // namespace rlx
