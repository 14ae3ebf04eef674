#include "replay/samplers/lifo.h"

#include "replay/samplers/errors.h"

namespace rlx {

absl::Status LifoSampler::Insert(uint64_t key, double value) { return order_.Append(key); }

absl::Status LifoSampler::Update(uint64_t key, double value) { return order_.Contains(key); }

absl::Status LifoSampler::Delete(uint64_t key) { return order_.Remove(key); }

absl::StatusOr<SampleChoice> LifoSampler::Sample() {
  if (order_.empty()) return sampler_errors::Empty();
  SampleChoice choice;
  choice.key = order_.newest();
  return choice;
}

void LifoSampler::Clear() { order_.Clear(); }

}  // namespace rlx
