// ReturnWeightedSampler: trajectory weighting by episode return.
//
//   P(i) = exp((G_i - max_j G_j) / T) / sum_k exp((G_k - max_j G_j) / T)
//
// where G_i is the return passed to Insert/Update and T is temperature: a
// softmax over returns, so higher-return episodes are replayed more often and
// T -> infinity tends to uniform. Each SampleChoice carries P(i); weight is 1.
//
// The sum tree holds exp((G_i - G_ref) / T) for a reference return G_ref
// (the first return inserted, later the maximum at the last rebase).
// Probabilities are ratios of these weights, so they do not depend on G_ref
// beyond float rounding. When the weights drift out of range (an exponent
// above kMaxExponent, or the total weight above e^kMaxExponent or below
// e^-kMaxExponent, e.g. returns that grow by thousands over training or the
// best episode being deleted), the sampler rebases: G_ref becomes the current
// maximum return and every weight is recomputed from the stored returns, O(n).
// A rebase needs the returns to move by about kMaxExponent temperatures, so it
// is rare in practice; every other call is O(log n). A key more than about
// 500 T below the maximum return may get weight 0 and is then never chosen;
// its true probability is below e^-500 (~1e-217).
//
// Returns must be finite (INVALID_ARGUMENT otherwise, sampler unchanged). Not
// thread-safe: the owning Table calls it under its mutex (see interface.h).
#ifndef RLX_REPLAY_SAMPLERS_RETURN_WEIGHTED_H_
#define RLX_REPLAY_SAMPLERS_RETURN_WEIGHTED_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "replay.pb.h"
#include "replay/samplers/interface.h"
#include "replay/samplers/sampler_rng.h"
#include "replay/samplers/weighted_keys.h"

namespace rlx {

class ReturnWeightedSampler final : public Sampler {
 public:
  // Weights stay within [e^-kMaxExponent, e^kMaxExponent] in total and each
  // exponent <= kMaxExponent, so sums neither overflow nor lose the top keys.
  static constexpr double kMaxExponent = 200;

  // INVALID_ARGUMENT unless temperature is finite and > 0 (the message names
  // "sampler.return_weighted.temperature").
  static absl::StatusOr<std::unique_ptr<ReturnWeightedSampler>> Create(
      const ReturnWeightedSamplerConfig& config, uint64_t seed);

  absl::Status Insert(uint64_t key, double episode_return) override;
  absl::Status Update(uint64_t key, double episode_return) override;
  absl::Status Delete(uint64_t key) override;
  absl::StatusOr<SampleChoice> Sample() override;
  void Clear() override;
  int64_t size() const override { return keys_.size(); }

  // How many times the weights were recomputed for a new reference return
  // (for tests and debugging).
  int64_t num_rebases() const { return num_rebases_; }

 private:
  ReturnWeightedSampler(double temperature, uint64_t seed);

  // Sets reference_ from the first return when the sampler is empty, then
  // returns the key's weight exponent (G - G_ref) / T.
  double ExponentOf(double episode_return);
  // Rebases when the weights left their safe range (see the header comment).
  void RebaseIfOutOfRange();
  void Rebase();

  const double temperature_;
  SamplerRng rng_;
  WeightedKeys keys_;  // value: the return; weight: exp((G - reference_) / T)
  double reference_ = 0;
  int64_t num_rebases_ = 0;
};

}  // namespace rlx

#endif  // RLX_REPLAY_SAMPLERS_RETURN_WEIGHTED_H_
