// The environment interface every actor, evaluator and in-process trainer uses.
//
// An Env is a single-threaded simulator (not thread-safe; one owner). Reset
// starts an episode; Step advances it. Episodes end by termination (a terminal
// state: do not bootstrap) or truncation (the time limit: bootstrap). After an
// episode ends the caller must Reset before stepping again; Step otherwise
// returns FAILED_PRECONDITION.
//
// Actions are passed as floats for both kinds of action space: a discrete
// action is one element holding an integer in [0, n). Out-of-range, NaN,
// non-integral (discrete) or wrongly sized actions return INVALID_ARGUMENT
// naming the problem; the env's state is unchanged. Nothing is clamped silently.
#ifndef RLX_ENVS_ENV_H_
#define RLX_ENVS_ENV_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace rlx {

struct Space {
  enum class Kind { kBox, kDiscrete };
  Kind kind = Kind::kBox;
  // Box: shape of the float vector and per-element bounds (+-inf allowed).
  std::vector<int64_t> shape;
  std::vector<float> low, high;
  // Discrete: number of actions.
  int64_t n = 0;

  bool is_discrete() const { return kind == Kind::kDiscrete; }
  // Elements in one observation/action (1 for discrete).
  int64_t flat_size() const;
  // A 1-D box; low and high must have the same length (aborts otherwise: a
  // programming error, not a runtime condition).
  static Space Box(std::vector<float> low, std::vector<float> high);
  static Space Discrete(int64_t n);
};

// Checks an action against an action space: the element count must be
// flat_size(); every element must be finite; a discrete action must be an
// integer in [0, n); a box action must lie within [low, high] element-wise.
// Returns INVALID_ARGUMENT naming the problem (e.g. "action[0] = 2 is out of
// range [0, 2)"), OK otherwise.
absl::Status ValidateAction(const Space& space, absl::Span<const float> action);

struct EnvSpec {
  std::string name;            // registry name, e.g. "CartPole-v1"
  Space observation_space;     // always a Box of floats
  Space action_space;
  int max_episode_steps = 0;   // truncation limit (0 = none)
  double reward_threshold = 0; // "solved" threshold from the classic definitions
};

struct StepResult {
  std::vector<float> observation;
  double reward = 0.0;
  bool terminated = false;
  bool truncated = false;
  bool done() const { return terminated || truncated; }
};

class Env {
 public:
  virtual ~Env() = default;

  virtual const EnvSpec& spec() const = 0;

  // Starts an episode. With a seed the env's random generator is re-seeded
  // (same seed => same initial state and same episode for the same actions);
  // without one it continues from its current state. Writes the first
  // observation into *observation (resized).
  virtual void Reset(std::optional<uint64_t> seed, std::vector<float>* observation) = 0;

  // Advances one step; on error nothing changes.
  virtual absl::Status Step(absl::Span<const float> action, StepResult* result) = 0;

  // Truncates episodes after max_episode_steps steps instead of the
  // registered limit (spec() then reports it), like Gymnasium's
  // make(name, max_episode_steps=...). Takes effect from the next step.
  // UNIMPLEMENTED for envs without a step limit of their own.
  virtual absl::Status SetMaxEpisodeSteps(int max_episode_steps);
};

}  // namespace rlx

#endif  // RLX_ENVS_ENV_H_
