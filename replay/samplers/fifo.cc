#include "replay/samplers/fifo.h"

#include "replay/samplers/errors.h"

namespace rlx {

absl::Status FifoSampler::Insert(uint64_t key, double value) { return order_.Append(key); }

absl::Status FifoSampler::Update(uint64_t key, double value) { return order_.Contains(key); }

absl::Status FifoSampler::Delete(uint64_t key) { return order_.Remove(key); }

absl::StatusOr<SampleChoice> FifoSampler::Sample() {
  if (order_.empty()) return sampler_errors::Empty();
  SampleChoice choice;
  choice.key = order_.oldest();
  return choice;
}

void FifoSampler::Clear() { order_.Clear(); }

}  // namespace rlx
