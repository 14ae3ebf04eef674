// The built-in preference functions (docs/algorithms.md, "SPO"), used by the
// SPO learner, its reward-model baseline and the preference_server process:
// P(a preferred to b) in [0, 1] for two whole trajectories
// (proto/preference.proto Trajectory). Antisymmetric: P(a, b) = 1 - P(b, a),
// and P(a, a) = 1/2. Torch-free; Probability is const and thread-safe, Vote
// draws from the caller's generator.
#ifndef RLX_ALGORITHMS_PREFERENCES_H_
#define RLX_ALGORITHMS_PREFERENCES_H_

#include <memory>
#include <random>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "preference.pb.h"

namespace rlx::spo {

// The three criteria of the intransitive raters, each "more is better":
// the return, the final observation's first component, minus the energy
// (sum of squared actions).
struct Criteria {
  double total_return = 0;
  double final_position = 0;
  double negative_energy = 0;
};
Criteria TrajectoryCriteria(const Trajectory& t);

// The return of an episode's last quarter: its steps from ceil(3 n / 4) on
// (n = rewards.size()), as the non-markovian function splits a trajectory.
double LastQuarterReturn(absl::Span<const float> rewards);

// INVALID_ARGUMENT naming the field when the arrays do not match the sizes
// or hold non-finite values.
absl::Status ValidateTrajectory(const Trajectory& t);

class PreferenceFunction {
 public:
  virtual ~PreferenceFunction() = default;
  virtual double Probability(const Trajectory& a, const Trajectory& b) const = 0;
  // A vote: 1 with Probability(a, b), else 0.
  double Vote(const Trajectory& a, const Trajectory& b, std::mt19937_64* rng) const;
};

// The function a spec names; INVALID_ARGUMENT naming the bad parameter.
absl::StatusOr<std::unique_ptr<PreferenceFunction>> MakePreferenceFunction(
    const PreferenceFunctionSpec& spec);

// Answers a request: P (or, with function.sample, a vote drawn from *rng)
// per pair, in order. INVALID_ARGUMENT naming the bad field.
absl::StatusOr<CompareResponse> Compare(const CompareRequest& request, std::mt19937_64* rng);

}  // namespace rlx::spo

#endif  // RLX_ALGORITHMS_PREFERENCES_H_
