#include "replay/samplers/insertion_order.h"

#include "replay/samplers/errors.h"

namespace rlx {

absl::Status InsertionOrder::Append(uint64_t key) {
  auto [it, inserted] = nodes_.try_emplace(key);
  if (!inserted) return sampler_errors::KeyExists(key);
  it->second = order_.insert(order_.end(), key);
  return absl::OkStatus();
}

absl::Status InsertionOrder::Contains(uint64_t key) const {
  if (!nodes_.contains(key)) return sampler_errors::KeyNotFound(key);
  return absl::OkStatus();
}

absl::Status InsertionOrder::Remove(uint64_t key) {
  auto it = nodes_.find(key);
  if (it == nodes_.end()) return sampler_errors::KeyNotFound(key);
  order_.erase(it->second);
  nodes_.erase(it);
  return absl::OkStatus();
}

void InsertionOrder::Clear() {
  order_.clear();
  nodes_.clear();
}

}  // namespace rlx
