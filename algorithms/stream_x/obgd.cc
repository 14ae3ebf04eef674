#include "algorithms/stream_x/obgd.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "models/trace_kernels.h"

namespace rlx {

ObgdStepInfo Obgd::Step(double delta, absl::Span<const float> grad, absl::Span<float> trace,
                        absl::Span<float> params, bool reset_trace) const {
  const double l1 =
      DecayAddL1(trace_decay(), grad.data(), trace.data(), static_cast<int64_t>(trace.size()));
  return Apply(delta, l1, trace, params, reset_trace);
}

ObgdStepInfo Obgd::StepNetwork(double delta, absl::Span<const float> cotangent, Network* net,
                               absl::Span<float> trace, bool reset_trace) const {
  const double l1 = net->AccumulateTrace(cotangent, trace_decay(), trace);
  return Apply(delta, l1, trace, net->params(), reset_trace);
}

ObgdStepInfo Obgd::Apply(double delta, double trace_l1, absl::Span<float> trace,
                         absl::Span<float> params, bool reset_trace) const {
  ObgdStepInfo info;
  info.trace_l1 = trace_l1;
  const double delta_bar = std::max(std::fabs(delta), 1.0);
  info.bound = config_.alpha * config_.kappa * delta_bar * info.trace_l1;
  info.step_size = info.bound > 1.0 ? config_.alpha / info.bound : config_.alpha;
  AddScaledAndMaybeReset(static_cast<float>(info.step_size * delta), trace.data(),
                         params.data(), static_cast<int64_t>(params.size()), reset_trace);
  return info;
}

}  // namespace rlx
