// InsertionOrder: the keys of a FIFO or LIFO sampler in the order they were
// inserted, with O(1) insert at the back, removal of any key (amortized
// O(1)), and access to the oldest and newest key. Update never reorders a
// key.
//
// A deque of (key, sequence number) in insertion order plus a key ->
// sequence index (KeyIndex: no hashing for the Table's slot numbers). Removal
// drops the key from the index; its deque entry goes stale and is dropped
// when it reaches either end, or when stale entries make up most of the deque
// (compaction). Both ends always hold live keys. Not thread-safe; owned by
// one sampler.
#ifndef RLX_REPLAY_SAMPLERS_INSERTION_ORDER_H_
#define RLX_REPLAY_SAMPLERS_INSERTION_ORDER_H_

#include <cstdint>
#include <deque>

#include "absl/status/status.h"
#include "replay/samplers/key_index.h"

namespace rlx {

class InsertionOrder {
 public:
  // ALREADY_EXISTS when key is present.
  absl::Status Append(uint64_t key);
  // NOT_FOUND when key is absent.
  absl::Status Contains(uint64_t key) const;
  absl::Status Remove(uint64_t key);
  void Clear();

  bool empty() const { return index_.size() == 0; }
  int64_t size() const { return static_cast<int64_t>(index_.size()); }
  // Oldest and newest present key; require !empty().
  uint64_t oldest() const { return order_.front().key; }
  uint64_t newest() const { return order_.back().key; }

 private:
  struct Entry {
    uint64_t key;
    int64_t seq;
  };
  bool Live(const Entry& e) const {
    const int64_t* seq = index_.Find(e.key);
    return seq != nullptr && *seq == e.seq;
  }

  std::deque<Entry> order_;  // oldest first; may hold stale entries inside
  KeyIndex index_;           // present key -> its sequence number
  int64_t next_seq_ = 0;
};

}  // namespace rlx

#endif  // RLX_REPLAY_SAMPLERS_INSERTION_ORDER_H_
