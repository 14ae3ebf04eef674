#include "envs/classic_env.h"

#include "absl/strings/str_cat.h"

namespace rlx {

void ClassicEnv::Reset(std::optional<uint64_t> seed, std::vector<float>* observation) {
  if (seed.has_value()) rng_.seed(*seed);
  ResetState();
  elapsed_steps_ = 0;
  active_ = true;
  Observe(observation);
}

absl::Status ClassicEnv::Step(absl::Span<const float> action, StepResult* result) {
  if (!active_) {
    return absl::FailedPreconditionError(
        absl::StrCat(spec_.name, ": Step called ",
                     elapsed_steps_ == 0 ? "before the first Reset"
                                         : "after the episode ended; call Reset first"));
  }
  if (absl::Status s = ValidateAction(spec_.action_space, action); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(spec_.name, ": ", s.message()));
  }
  double reward = 0.0;
  bool terminated = false;
  Advance(action, &reward, &terminated);
  ++elapsed_steps_;
  result->reward = reward;
  result->terminated = terminated;
  result->truncated = spec_.max_episode_steps > 0 && elapsed_steps_ >= spec_.max_episode_steps;
  Observe(&result->observation);
  if (result->done()) active_ = false;
  return absl::OkStatus();
}

absl::Status ClassicEnv::SetMaxEpisodeSteps(int max_episode_steps) {
  if (max_episode_steps <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        spec_.name, ": max_episode_steps must be positive, got ", max_episode_steps));
  }
  spec_.max_episode_steps = max_episode_steps;
  return absl::OkStatus();
}

double ClassicEnv::Uniform(double low, double high) {
  const double unit = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
  return low + (high - low) * unit;
}

}  // namespace rlx
