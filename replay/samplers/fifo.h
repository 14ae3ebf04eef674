// FifoSampler: always chooses the oldest present key (first in, first out).
//
// Order is insertion order; Update does not move a key. Deterministic:
// probability and weight are 1. Sampling does not remove the key: the Table
// deletes it (queue tables, max_times_sampled) and the next Sample moves on.
// Values are ignored. All calls are O(1). Not thread-safe: the owning Table
// calls it under its mutex (see interface.h).
#ifndef RLX_REPLAY_SAMPLERS_FIFO_H_
#define RLX_REPLAY_SAMPLERS_FIFO_H_

#include <cstdint>

#include "replay/samplers/insertion_order.h"
#include "replay/samplers/interface.h"

namespace rlx {

class FifoSampler final : public Sampler {
 public:
  FifoSampler() = default;

  absl::Status Insert(uint64_t key, double value) override;
  absl::Status Update(uint64_t key, double value) override;
  absl::Status Delete(uint64_t key) override;
  absl::StatusOr<SampleChoice> Sample() override;
  void Clear() override;
  int64_t size() const override { return order_.size(); }

 private:
  InsertionOrder order_;
};

}  // namespace rlx

#endif  // RLX_REPLAY_SAMPLERS_FIFO_H_
