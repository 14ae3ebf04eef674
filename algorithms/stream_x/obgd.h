// ObGD, the overshooting-bounded gradient step of stream-x
// (docs/algorithms.md, "ObGD"), on flat buffers.
//
// One optimizer per network. The eligibility trace is passed in (it belongs
// to an actor stream, not to the optimizer), so one learner can keep a trace
// set per stream. Step does, over the whole flat parameter vector:
//   z <- gamma * lambda * z + g
//   delta_bar = max(|delta|, 1);  M = alpha * kappa * delta_bar * ||z||_1
//   step = alpha / M if M > 1 else alpha
//   w <- w + step * delta * z
//   and, when reset_trace (episode end, or Q(lambda) after an exploratory
//   action), z <- 0 after the update.
// Plain C++ loops (no LibTorch, models/trace_kernels.h): any Network backend
// can use it. StepNetwork takes the gradient from the network's fused
// AccumulateTrace (models/network.h), so a backend can write it straight
// into the trace. Thread-compatible.
#ifndef RLX_ALGORITHMS_STREAM_X_OBGD_H_
#define RLX_ALGORITHMS_STREAM_X_OBGD_H_

#include "absl/types/span.h"
#include "models/network.h"

namespace rlx {

struct ObgdConfig {
  double alpha = 1.0;
  double gamma = 0.99;
  double lambda = 0.8;
  double kappa = 2.0;
};

struct ObgdStepInfo {
  double trace_l1 = 0;   // ||z||_1 after adding g
  double bound = 0;      // M
  double step_size = 0;  // alpha / M or alpha
};

class Obgd {
 public:
  explicit Obgd(const ObgdConfig& config) : config_(config) {}
  const ObgdConfig& config() const { return config_; }

  // grad, trace and params have the same size.
  ObgdStepInfo Step(double delta, absl::Span<const float> grad, absl::Span<float> trace,
                    absl::Span<float> params, bool reset_trace) const;

  // The same step with g = the gradient of sum_k cotangent[k] * out_k of the
  // network's most recent Forward (net->Backward's), updating net->params().
  ObgdStepInfo StepNetwork(double delta, absl::Span<const float> cotangent, Network* net,
                           absl::Span<float> trace, bool reset_trace) const;

 private:
  // Everything after the trace update, given ||z||_1.
  ObgdStepInfo Apply(double delta, double trace_l1, absl::Span<float> trace,
                     absl::Span<float> params, bool reset_trace) const;
  float trace_decay() const { return static_cast<float>(config_.gamma * config_.lambda); }

  ObgdConfig config_;
};

}  // namespace rlx

#endif  // RLX_ALGORITHMS_STREAM_X_OBGD_H_
