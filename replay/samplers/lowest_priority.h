// LowestPrioritySampler: always chooses the present key with the smallest
// value (for a table's remover: the item with the lowest priority); among
// equal values, the one inserted first (an Update keeps a key's place among
// equals).
//
// An indexed binary min-heap of (value, insertion sequence) with a key ->
// heap position index (KeyIndex). Insert, Update and Delete are O(log n),
// Sample is O(1). Deterministic: probability and weight are 1. Values must be
// finite (INVALID_ARGUMENT otherwise, leaving the sampler unchanged). Not
// thread-safe: the owning Table calls it under its mutex (see interface.h).
#ifndef RLX_REPLAY_SAMPLERS_LOWEST_PRIORITY_H_
#define RLX_REPLAY_SAMPLERS_LOWEST_PRIORITY_H_

#include <cstdint>
#include <vector>

#include "replay/samplers/interface.h"
#include "replay/samplers/key_index.h"

namespace rlx {

class LowestPrioritySampler final : public Sampler {
 public:
  LowestPrioritySampler() = default;

  absl::Status Insert(uint64_t key, double value) override;
  absl::Status Update(uint64_t key, double value) override;
  absl::Status Delete(uint64_t key) override;
  absl::StatusOr<SampleChoice> Sample() override;
  void Clear() override;
  int64_t size() const override { return static_cast<int64_t>(heap_.size()); }

 private:
  struct Node {
    double value;
    int64_t seq;
    uint64_t key;
  };
  static bool Less(const Node& a, const Node& b) {
    return a.value < b.value || (a.value == b.value && a.seq < b.seq);
  }
  // Moves heap_[i] up or down to its place, keeping positions_ in step.
  void SiftUp(size_t i);
  void SiftDown(size_t i);
  void Place(size_t i, const Node& node);

  std::vector<Node> heap_;
  KeyIndex positions_;  // key -> index in heap_
  int64_t next_seq_ = 0;
};

}  // namespace rlx

#endif  // RLX_REPLAY_SAMPLERS_LOWEST_PRIORITY_H_
