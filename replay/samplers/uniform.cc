#include "replay/samplers/uniform.h"

#include "replay/samplers/errors.h"

namespace rlx {

UniformSampler::UniformSampler(uint64_t seed) : rng_(seed) {}

absl::Status UniformSampler::Insert(uint64_t key, double value) {
  if (!positions_.try_emplace(key, static_cast<int64_t>(keys_.size())).second) {
    return sampler_errors::KeyExists(key);
  }
  keys_.push_back(key);
  return absl::OkStatus();
}

absl::Status UniformSampler::Update(uint64_t key, double value) {
  if (!positions_.contains(key)) {
    return sampler_errors::KeyNotFound(key);
  }
  return absl::OkStatus();
}

absl::Status UniformSampler::Delete(uint64_t key) {
  auto it = positions_.find(key);
  if (it == positions_.end()) {
    return sampler_errors::KeyNotFound(key);
  }
  const int64_t position = it->second;
  positions_.erase(it);
  const uint64_t last = keys_.back();
  keys_.pop_back();
  if (last != key) {
    keys_[position] = last;
    positions_[last] = position;
  }
  return absl::OkStatus();
}

absl::StatusOr<SampleChoice> UniformSampler::Sample() {
  if (keys_.empty()) return sampler_errors::Empty();
  SampleChoice choice;
  choice.key = keys_[rng_.UniformIndex(keys_.size())];
  choice.probability = 1.0 / static_cast<double>(keys_.size());
  return choice;
}

void UniformSampler::Clear() {
  keys_.clear();
  positions_.clear();
}

}  // namespace rlx
