// InsertionOrder: the keys of a FIFO or LIFO sampler in the order they were
// inserted, with O(1) insert at the back, removal of any key, and access to
// the oldest and newest key (a linked list plus a key -> node map). Update
// never reorders a key. Not thread-safe; owned by one sampler.
#ifndef RLX_REPLAY_SAMPLERS_INSERTION_ORDER_H_
#define RLX_REPLAY_SAMPLERS_INSERTION_ORDER_H_

#include <cstdint>
#include <list>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"

namespace rlx {

class InsertionOrder {
 public:
  // ALREADY_EXISTS when key is present.
  absl::Status Append(uint64_t key);
  // NOT_FOUND when key is absent.
  absl::Status Contains(uint64_t key) const;
  absl::Status Remove(uint64_t key);
  void Clear();

  bool empty() const { return order_.empty(); }
  int64_t size() const { return static_cast<int64_t>(order_.size()); }
  // Oldest and newest present key; require !empty().
  uint64_t oldest() const { return order_.front(); }
  uint64_t newest() const { return order_.back(); }

 private:
  std::list<uint64_t> order_;  // oldest first
  absl::flat_hash_map<uint64_t, std::list<uint64_t>::iterator> nodes_;
};

}  // namespace rlx

#endif  // RLX_REPLAY_SAMPLERS_INSERTION_ORDER_H_
