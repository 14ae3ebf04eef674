// UniformSampler: every present key is equally likely, P = 1/N.
//
// Keys live in a dense vector with a key -> position index (KeyIndex: a plain
// vector for the Table's small slot numbers); Delete moves the last key into
// the freed position (swap-remove), so Insert, Update, Delete and Sample are
// O(1) and Sample touches one vector element. Values are ignored. Not thread-safe: the owning Table calls
// it under its mutex (see interface.h).
#ifndef RLX_REPLAY_SAMPLERS_UNIFORM_H_
#define RLX_REPLAY_SAMPLERS_UNIFORM_H_

#include <cstdint>
#include <vector>

#include "replay/samplers/interface.h"
#include "replay/samplers/key_index.h"
#include "replay/samplers/sampler_rng.h"

namespace rlx {

class UniformSampler final : public Sampler {
 public:
  explicit UniformSampler(uint64_t seed);

  absl::Status Insert(uint64_t key, double value) override;
  absl::Status Update(uint64_t key, double value) override;
  absl::Status Delete(uint64_t key) override;
  // probability = 1/N, weight = 1.
  absl::StatusOr<SampleChoice> Sample() override;
  // Draws the n positions first, then reads them (the reads overlap).
  void SampleMany(int64_t n, std::vector<SampleChoice>* out) override;
  void Clear() override;
  int64_t size() const override { return static_cast<int64_t>(keys_.size()); }

 private:
  SamplerRng rng_;
  std::vector<uint64_t> keys_;
  KeyIndex positions_;  // key -> index in keys_
};

}  // namespace rlx

#endif  // RLX_REPLAY_SAMPLERS_UNIFORM_H_
