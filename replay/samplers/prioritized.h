// PrioritizedSampler: prioritized experience replay (Schaul et al., 2016).
//
// P(i) = p_i^alpha / sum_j p_j^alpha, where p_i is the priority passed to
// Insert/Update and alpha is priority_exponent. A zero priority gets weight 0
// for every alpha (0^0 counts as 0 here), so such a key is never chosen while
// any priority is positive; when every priority is zero the choice is uniform.
// alpha = 0 therefore samples uniformly among the positive priorities.
//
// Each SampleChoice carries P(i) and the importance weight
//   w_i = (N * P(i))^-beta / max_j (N * P(j))^-beta,   beta = importance_exponent,
// where the max is over the table's keys with P(j) > 0, i.e. it comes from the
// smallest positive probability, so weights are in (0, 1]. It is computed as
// (P_min / P(i))^beta, with P_min kept by the sum tree in O(1). Uniform picks
// (all priorities zero) have weight 1.
//
// Priorities must be finite and >= 0, and p^alpha must stay finite; anything
// else is INVALID_ARGUMENT and leaves the sampler unchanged. Insert, Update,
// Delete and Sample are O(log n) (see weighted_keys.h; sums are drift-free, see
// sum_tree.h). Not thread-safe: the owning Table calls it under its mutex (see
// interface.h).
#ifndef RLX_REPLAY_SAMPLERS_PRIORITIZED_H_
#define RLX_REPLAY_SAMPLERS_PRIORITIZED_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "replay.pb.h"
#include "replay/samplers/interface.h"
#include "replay/samplers/sampler_rng.h"
#include "replay/samplers/weighted_keys.h"

namespace rlx {

class PrioritizedSampler final : public Sampler {
 public:
  // INVALID_ARGUMENT unless both exponents are finite and >= 0; the message
  // names the field as "sampler.prioritized.<field>".
  static absl::StatusOr<std::unique_ptr<PrioritizedSampler>> Create(
      const PrioritizedSamplerConfig& config, uint64_t seed);

  absl::Status Insert(uint64_t key, double priority) override;
  absl::Status Update(uint64_t key, double priority) override;
  absl::Status Delete(uint64_t key) override;
  absl::StatusOr<SampleChoice> Sample() override;
  void Clear() override;
  int64_t size() const override { return keys_.size(); }

 private:
  PrioritizedSampler(double priority_exponent, double importance_exponent, uint64_t seed);

  // priority^alpha, or INVALID_ARGUMENT for a bad priority or an overflow.
  absl::StatusOr<double> WeightOf(double priority) const;

  const double priority_exponent_;
  const double importance_exponent_;
  SamplerRng rng_;
  WeightedKeys keys_;
};

}  // namespace rlx

#endif  // RLX_REPLAY_SAMPLERS_PRIORITIZED_H_
