// KeyIndex: a map from sampler keys to non-negative int64 values (positions,
// sequence numbers), tuned for the keys a Table gives its sampler: slot
// numbers, small and dense, which index a vector (no hashing); any larger key
// goes to a hash map, so every uint64 key works. Not thread-safe.
#ifndef RLX_REPLAY_SAMPLERS_KEY_INDEX_H_
#define RLX_REPLAY_SAMPLERS_KEY_INDEX_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace rlx {

class KeyIndex {
 public:
  // Keys below this live in the dense vector (grown on demand).
  static constexpr uint64_t kDenseLimit = uint64_t{1} << 26;

  // Adds key -> value (value >= 0); false when key is already present.
  bool Insert(uint64_t key, int64_t value) {
    if (key < kDenseLimit) {
      if (key >= dense_.size()) {
        dense_.resize(std::max<size_t>(key + 1, dense_.size() * 2), -1);
      }
      if (dense_[key] >= 0) return false;
      dense_[key] = value;
      ++dense_count_;
      return true;
    }
    return sparse_.try_emplace(key, value).second;
  }
  // The value of key, or nullptr when absent. Valid until the next change.
  int64_t* Find(uint64_t key) {
    if (key < kDenseLimit) {
      return key < dense_.size() && dense_[key] >= 0 ? &dense_[key] : nullptr;
    }
    auto it = sparse_.find(key);
    return it == sparse_.end() ? nullptr : &it->second;
  }
  const int64_t* Find(uint64_t key) const { return const_cast<KeyIndex*>(this)->Find(key); }
  bool contains(uint64_t key) const { return Find(key) != nullptr; }
  // Removes key; false when absent.
  bool Erase(uint64_t key) {
    if (key < kDenseLimit) {
      if (key >= dense_.size() || dense_[key] < 0) return false;
      dense_[key] = -1;
      --dense_count_;
      return true;
    }
    return sparse_.erase(key) > 0;
  }
  void Clear() {
    dense_.clear();
    dense_count_ = 0;
    sparse_.clear();
  }
  size_t size() const { return dense_count_ + sparse_.size(); }

 private:
  std::vector<int64_t> dense_;  // -1 = absent
  size_t dense_count_ = 0;
  absl::flat_hash_map<uint64_t, int64_t> sparse_;
};

}  // namespace rlx

#endif  // RLX_REPLAY_SAMPLERS_KEY_INDEX_H_
