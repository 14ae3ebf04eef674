#include "algorithms/stream_x/obgd.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace rlx {
namespace {

// z <- decay * z + g; returns sum |z|. Eight independent partial sums let the
// compiler vectorise the reduction without reassociation flags.
double DecayAddAndL1(float decay, const float* g, float* z, size_t n) {
  constexpr size_t kLanes = 8;
  float acc[kLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (size_t k = 0; k < kLanes; ++k) {
      const float v = decay * z[i + k] + g[i + k];
      z[i + k] = v;
      acc[k] += std::fabs(v);
    }
  }
  double total = 0;
  for (; i < n; ++i) {
    z[i] = decay * z[i] + g[i];
    total += std::fabs(z[i]);
  }
  for (size_t k = 0; k < kLanes; ++k) total += acc[k];
  return total;
}

}  // namespace

ObgdStepInfo Obgd::Step(double delta, absl::Span<const float> grad, absl::Span<float> trace,
                        absl::Span<float> params, bool reset_trace) const {
  ObgdStepInfo info;
  const size_t n = params.size();
  info.trace_l1 = DecayAddAndL1(static_cast<float>(config_.gamma * config_.lambda), grad.data(),
                                trace.data(), n);
  const double delta_bar = std::max(std::fabs(delta), 1.0);
  info.bound = config_.alpha * config_.kappa * delta_bar * info.trace_l1;
  info.step_size = info.bound > 1.0 ? config_.alpha / info.bound : config_.alpha;
  const float scale = static_cast<float>(info.step_size * delta);
  float* w = params.data();
  float* z = trace.data();
  for (size_t i = 0; i < n; ++i) w[i] += scale * z[i];
  if (reset_trace) std::fill(z, z + n, 0.0f);
  return info;
}

}  // namespace rlx
