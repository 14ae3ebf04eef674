// Shared episode bookkeeping for the classic-control envs.
//
// ClassicEnv implements the Env contract once: it owns the random generator
// (std::mt19937_64), validates actions before touching the state, counts steps
// and decides truncation at spec().max_episode_steps, and refuses to step an
// ended (or never started) episode with FAILED_PRECONDITION. A concrete env
// supplies only its dynamics through the protected hooks.
//
// Seeding: a new env's generator is seeded with 0, so an env that is never
// given a seed is still deterministic. Reset(seed) re-seeds it; Reset(nullopt)
// draws the next initial state from where the generator stands.
#ifndef RLX_ENVS_CLASSIC_ENV_H_
#define RLX_ENVS_CLASSIC_ENV_H_

#include <cstdint>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "envs/env.h"

namespace rlx {

inline constexpr double kPi = 3.14159265358979323846;

class ClassicEnv : public Env {
 public:
  const EnvSpec& spec() const final { return spec_; }
  void Reset(std::optional<uint64_t> seed, std::vector<float>* observation) final;
  absl::Status Step(absl::Span<const float> action, StepResult* result) final;
  absl::Status SetMaxEpisodeSteps(int max_episode_steps) final;

  // Steps taken in the current episode.
  int elapsed_steps() const { return elapsed_steps_; }
  // True between a Reset and the step that ends the episode.
  bool episode_active() const { return active_; }

 protected:
  explicit ClassicEnv(EnvSpec spec) : spec_(std::move(spec)) {}

  // Draws a new initial state using Uniform().
  virtual void ResetState() = 0;
  // Writes the observation of the current state (resizing *observation).
  virtual void Observe(std::vector<float>* observation) const = 0;
  // Advances the state by one step under a validated action and reports the
  // reward and whether the new state is terminal. Truncation is not its
  // concern.
  virtual void Advance(absl::Span<const float> action, double* reward, bool* terminated) = 0;

  // A double drawn uniformly from [low, high) using the top 53 bits of one
  // generator output (the same on every platform, unlike
  // std::uniform_real_distribution).
  double Uniform(double low, double high);

 private:
  EnvSpec spec_;
  std::mt19937_64 rng_{0};
  int elapsed_steps_ = 0;
  bool active_ = false;
};

}  // namespace rlx

#endif  // RLX_ENVS_CLASSIC_ENV_H_
