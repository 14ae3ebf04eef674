// WeightedKeys: the key bookkeeping shared by the weighted samplers
// (prioritized, return_weighted). Each key has a value (what the caller passed:
// a priority or a return) and a weight (what the sampler derived from it);
// Sample picks a key with probability weight / total weight.
//
// Keys sit in dense slots [0, size) that index a SumTree; Delete moves the last
// slot into the freed one (swap-remove). Insert, Update, Delete and Sample are
// O(log n); the tree doubles when full and halves when a quarter full, so
// resizing is amortized O(1). Reweigh recomputes every weight in O(n). Not
// thread-safe; owned by one sampler.
#ifndef RLX_REPLAY_SAMPLERS_WEIGHTED_KEYS_H_
#define RLX_REPLAY_SAMPLERS_WEIGHTED_KEYS_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "replay/samplers/sampler_rng.h"
#include "replay/samplers/sum_tree.h"

namespace rlx {

class WeightedKeys {
 public:
  struct Pick {
    uint64_t key = 0;
    // The chosen key's weight and the total weight when it was chosen; with
    // total_weight == 0 the pick was uniform (every weight is zero).
    double weight = 0;
    double total_weight = 0;
  };

  // weight must be finite and >= 0 (the samplers check their inputs first).
  // ALREADY_EXISTS when key is present.
  absl::Status Insert(uint64_t key, double value, double weight);
  // NOT_FOUND when key is absent.
  absl::Status Update(uint64_t key, double value, double weight);
  absl::Status Delete(uint64_t key);
  void Clear();

  int64_t size() const { return static_cast<int64_t>(slots_.size()); }
  bool contains(uint64_t key) const { return slot_of_.contains(key); }
  // Value and weight of a present key.
  double value(uint64_t key) const { return slots_[slot_of_.at(key)].value; }
  double weight(uint64_t key) const { return tree_.Get(slot_of_.at(key)); }

  double total_weight() const { return tree_.total(); }
  // Smallest positive weight; +infinity when none is positive.
  double min_positive_weight() const { return tree_.min_positive(); }

  // Sets every key's weight to weight_of(value) at once, in O(n).
  void Reweigh(const std::function<double(double value)>& weight_of);
  // Calls fn(value) for every key, in slot order.
  void ForEachValue(const std::function<void(double value)>& fn) const;

  // Requires size() > 0. Draws a key with probability weight / total_weight(),
  // or uniformly when every weight is zero.
  Pick Sample(SamplerRng& rng) const;

 private:
  struct Slot {
    uint64_t key;
    double value;
  };

  std::vector<Slot> slots_;
  absl::flat_hash_map<uint64_t, int64_t> slot_of_;
  SumTree tree_;  // leaf i is the weight of slots_[i]; leaves >= size() are 0
};

}  // namespace rlx

#endif  // RLX_REPLAY_SAMPLERS_WEIGHTED_KEYS_H_
