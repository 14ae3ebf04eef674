// The network interface the algorithms use, whatever the backend: parameters
// in ONE flat float buffer, evaluated on one input at a time, with a hand-
// written backward. Backends are registered by name (models/backends.h: the
// plain C++ "cpu_mlp" and the LibTorch "torch_mlp"); this header is free of LibTorch and of any
// backend's types.
//
// Contract (every backend):
//   * params() is the whole parameter vector in the backend's own layout
//     (MLP backends: models/mlp.h). Optimizers write into it directly; the
//     next Forward sees the new values.
//   * Forward(input, output) evaluates one observation (batch 1) and remembers
//     the activations it needs for a following Backward.
//   * Backward(cotangent) returns the gradient of sum_k cotangent[k] * out_k
//     (out from the most recent Forward, at the parameters of that Forward)
//     w.r.t. all parameters, as a flat buffer owned by the network (valid
//     until the next Backward). Parameters must not change in between.
//   * AccumulateTrace(cotangent, decay, trace) is the stream-x trace step
//     fused with Backward: trace <- decay * trace + Backward(cotangent), in
//     the layout of params(); returns sum |trace| afterwards. The default is
//     Backward and one more pass; backends may write the gradient straight
//     into the trace.
//   * HiddenActivations(input) gives the hidden units' activations for one
//     input (for the dormant-unit monitor), without disturbing a pending
//     Backward.
//
// Not thread-safe: one owner. Clone() gives an independent copy (e.g. an
// actor's local policy).
#ifndef RLX_MODELS_NETWORK_H_
#define RLX_MODELS_NETWORK_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace rlx {

// What a backend is asked to build.
struct NetworkSpec {
  int64_t input_dim = 0;
  int64_t output_dim = 0;
  std::vector<int64_t> hidden = {128, 128};  // hidden widths (the backend's reading)
  double sparsity = 0.9;  // initialisation: share of each unit's incoming weights set to 0
  uint64_t seed = 0;      // initialisation
};

class Network {
 public:
  virtual ~Network() = default;

  virtual int64_t input_dim() const = 0;
  virtual int64_t output_dim() const = 0;
  int64_t num_params() const { return static_cast<int64_t>(params().size()); }

  virtual absl::Span<float> params() = 0;
  virtual absl::Span<const float> params() const = 0;

  // input.size() == input_dim(), output.size() == output_dim().
  virtual void Forward(absl::Span<const float> input, absl::Span<float> output) = 0;
  // cotangent.size() == output_dim(); see the contract above.
  virtual absl::Span<const float> Backward(absl::Span<const float> cotangent) = 0;

  // trace.size() == num_params(); see the contract above.
  virtual double AccumulateTrace(absl::Span<const float> cotangent, float decay,
                                 absl::Span<float> trace);

  // One vector per hidden layer (empty when the backend has none).
  virtual void HiddenActivations(absl::Span<const float> input,
                                 std::vector<std::vector<float>>* layers) const = 0;

  virtual std::unique_ptr<Network> Clone() const = 0;
};

}  // namespace rlx

#endif  // RLX_MODELS_NETWORK_H_
