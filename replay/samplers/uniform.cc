#include "replay/samplers/uniform.h"

#include "replay/samplers/errors.h"

namespace rlx {

UniformSampler::UniformSampler(uint64_t seed) : rng_(seed) {}

absl::Status UniformSampler::Insert(uint64_t key, double value) {
  if (!positions_.Insert(key, static_cast<int64_t>(keys_.size()))) {
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
  const int64_t* found = positions_.Find(key);
  if (found == nullptr) {
    return sampler_errors::KeyNotFound(key);
  }
  const int64_t position = *found;
  positions_.Erase(key);
  const uint64_t last = keys_.back();
  keys_.pop_back();
  if (last != key) {
    keys_[position] = last;
    *positions_.Find(last) = position;
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

void UniformSampler::SampleMany(int64_t n, std::vector<SampleChoice>* out) {
  if (keys_.empty() || n <= 0) return;
  const size_t first = out->size();
  const double probability = 1.0 / static_cast<double>(keys_.size());
  out->resize(first + static_cast<size_t>(n));
  SampleChoice* choices = out->data() + first;
  // The same draws, in the same order, as n Sample() calls.
  for (int64_t i = 0; i < n; ++i) {
    const size_t position = rng_.UniformIndex(keys_.size());
    __builtin_prefetch(&keys_[position]);
    choices[i].key = position;
  }
  for (int64_t i = 0; i < n; ++i) {
    choices[i].key = keys_[choices[i].key];
    choices[i].probability = probability;
    choices[i].weight = 1.0;
  }
}

void UniformSampler::Clear() {
  keys_.clear();
  positions_.Clear();
}

}  // namespace rlx
