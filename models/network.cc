#include "models/network.h"

#include "models/trace_kernels.h"

namespace rlx {

double Network::AccumulateTrace(absl::Span<const float> cotangent, float decay,
                                absl::Span<float> trace) {
  const absl::Span<const float> grad = Backward(cotangent);
  return DecayAddL1(decay, grad.data(), trace.data(), static_cast<int64_t>(trace.size()));
}

}  // namespace rlx
