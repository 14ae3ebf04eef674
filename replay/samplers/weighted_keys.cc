#include "replay/samplers/weighted_keys.h"

#include <algorithm>

#include "replay/samplers/errors.h"

namespace rlx {
namespace {

// The tree never shrinks below this many leaves (keeps small tables from
// resizing back and forth).
constexpr int64_t kMinShrinkCapacity = 64;

}  // namespace

absl::Status WeightedKeys::Insert(uint64_t key, double value, double weight) {
  const int64_t slot = size();
  if (!slot_of_.try_emplace(key, slot).second) return sampler_errors::KeyExists(key);
  slots_.push_back({key, value});
  if (slot == tree_.capacity()) tree_.Resize(std::max<int64_t>(1, 2 * tree_.capacity()));
  tree_.Set(slot, weight);
  return absl::OkStatus();
}

absl::Status WeightedKeys::Update(uint64_t key, double value, double weight) {
  auto it = slot_of_.find(key);
  if (it == slot_of_.end()) return sampler_errors::KeyNotFound(key);
  slots_[it->second].value = value;
  tree_.Set(it->second, weight);
  return absl::OkStatus();
}

absl::Status WeightedKeys::Delete(uint64_t key) {
  auto it = slot_of_.find(key);
  if (it == slot_of_.end()) return sampler_errors::KeyNotFound(key);
  const int64_t slot = it->second;
  const int64_t last = size() - 1;
  slot_of_.erase(it);
  if (slot != last) {
    slots_[slot] = slots_[last];
    slot_of_[slots_[slot].key] = slot;
    tree_.Set(slot, tree_.Get(last));
  }
  slots_.pop_back();
  tree_.Set(last, 0.0);
  if (tree_.capacity() > kMinShrinkCapacity && 4 * size() <= tree_.capacity()) {
    tree_.Resize(tree_.capacity() / 2);
  }
  return absl::OkStatus();
}

void WeightedKeys::Clear() {
  slots_.clear();
  slot_of_.clear();
  tree_.Clear();
}

void WeightedKeys::Reweigh(const std::function<double(double value)>& weight_of) {
  std::vector<double> weights;
  weights.reserve(slots_.size());
  for (const Slot& slot : slots_) weights.push_back(weight_of(slot.value));
  tree_.Assign(weights);
}

void WeightedKeys::ForEachValue(const std::function<void(double value)>& fn) const {
  for (const Slot& slot : slots_) fn(slot.value);
}

WeightedKeys::Pick WeightedKeys::Sample(SamplerRng& rng) const {
  Pick pick;
  pick.total_weight = tree_.total();
  int64_t slot;
  if (pick.total_weight > 0) {
    slot = tree_.Find(rng.UniformDouble() * pick.total_weight);
  } else {
    slot = static_cast<int64_t>(rng.UniformIndex(slots_.size()));
  }
  pick.key = slots_[slot].key;
  pick.weight = tree_.Get(slot);
  return pick;
}

}  // namespace rlx
