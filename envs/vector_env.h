// N envs of one kind stepped together, with automatic reset.
//
// Contract:
//  * Reset(base_seed) resets every env, env i with seed base_seed + i, and
//    zeroes the per-env episode return and length. It must be called before
//    the first Step (Step returns FAILED_PRECONDITION otherwise) and may be
//    called again at any time to start all envs afresh.
//  * Step(actions) takes the actions of all envs concatenated in env order:
//    num_envs() * spec().action_space.flat_size() floats. Every action is
//    validated before any env moves; on an error (INVALID_ARGUMENT naming the
//    env index and the problem) no env, observation or counter changes.
//  * For each env i, (*results)[i] holds that env's step. When the step ended
//    the episode (terminated or truncated):
//      - final_observation is the last observation of the ended episode (what
//        to bootstrap from on truncation);
//      - the env has been reset without a seed (its generator continues, so a
//        run is reproducible from base_seed alone) and observation is the
//        first observation of the new episode;
//      - episode_return / episode_length describe the ended episode, this
//        step's reward included.
//    Otherwise observation is the step's observation, final_observation is
//    empty and episode_return / episode_length are 0.
//  * observation(i) is always the observation env i's next action responds to.
//
// Not thread-safe; one owner.
#ifndef RLX_ENVS_VECTOR_ENV_H_
#define RLX_ENVS_VECTOR_ENV_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "envs/env.h"

namespace rlx {

// One env's outcome in a VectorEnv::Step; see the contract above.
struct VectorStepResult {
  std::vector<float> observation;        // next observation to act on
  double reward = 0.0;
  bool terminated = false;
  bool truncated = false;
  std::vector<float> final_observation;  // when done(): last of the ended episode
  double episode_return = 0.0;           // when done(): undiscounted return
  int episode_length = 0;                // when done(): steps in the episode
  bool done() const { return terminated || truncated; }
};

class VectorEnv {
 public:
  // num_envs envs made by the registry. NOT_FOUND for an unknown name,
  // INVALID_ARGUMENT if num_envs < 1.
  static absl::StatusOr<VectorEnv> Create(absl::string_view name, int num_envs);
  // Takes ownership of existing envs, which must be non-null, at least one,
  // and all of the same spec name (INVALID_ARGUMENT otherwise).
  static absl::StatusOr<VectorEnv> FromEnvs(std::vector<std::unique_ptr<Env>> envs);

  VectorEnv(VectorEnv&&) = default;
  VectorEnv& operator=(VectorEnv&&) = default;

  int num_envs() const { return static_cast<int>(envs_.size()); }
  // The (shared) spec of the envs.
  const EnvSpec& spec() const { return envs_.front()->spec(); }

  void Reset(uint64_t base_seed);
  // Starts a new episode in env i from `seed` (its current one is dropped):
  // the same seed gives the same start state.
  void ResetEnv(int i, uint64_t seed);
  absl::Status Step(absl::Span<const float> actions, std::vector<VectorStepResult>* results);

  // The observation env i's next action responds to (empty before Reset).
  const std::vector<float>& observation(int i) const { return observations_[i]; }
  // All current observations concatenated in env order (num_envs() *
  // observation flat_size floats) into *out (resized).
  void Observations(std::vector<float>* out) const;

  // Return and length so far of env i's current episode.
  double episode_return(int i) const { return returns_[i]; }
  int episode_length(int i) const { return lengths_[i]; }

 private:
  explicit VectorEnv(std::vector<std::unique_ptr<Env>> envs);

  std::vector<std::unique_ptr<Env>> envs_;
  std::vector<std::vector<float>> observations_;
  std::vector<double> returns_;
  std::vector<int> lengths_;
  bool reset_ = false;
  StepResult scratch_;
};

}  // namespace rlx

#endif  // RLX_ENVS_VECTOR_ENV_H_
