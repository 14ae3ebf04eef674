// The narrow network interface the stream-x algorithms use: a small MLP whose
// parameters live in ONE flat float buffer, evaluated on one input at a time.
//
// Contract (every backend):
//   * params() is the whole parameter vector, laid out layer by layer as
//     [W_0 (out x in, row-major), b_0, W_1, b_1, ..., W_L, b_L]
//     (see LayerOffsets). Optimizers write into it directly; the next Forward
//     sees the new values.
//   * Forward(input, output) evaluates one observation (batch 1) and remembers
//     the activations it needs for a following Backward.
//   * Backward(cotangent) returns the gradient of sum_k cotangent[k] * out_k
//     (out from the most recent Forward, at the parameters of that Forward)
//     w.r.t. all parameters, as a flat buffer owned by the network (valid
//     until the next Backward). Parameters must not change in between.
//
// Architecture: every hidden layer is Linear -> LayerNorm without learnable
// gain/bias over the whole hidden vector (eps 1e-5) -> LeakyReLU(slope); the
// output layer is Linear. A Gaussian policy is one MLP with 2 * action_dim
// outputs (mean, then pre-softplus std); output units are independent, so this
// equals separate mean and std heads.
//
// Not thread-safe: one owner. Clone() gives an independent copy (e.g. an
// actor's local policy). This header is free of LibTorch on purpose.
#ifndef RLX_MODELS_NETWORK_H_
#define RLX_MODELS_NETWORK_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace rlx {

struct MlpSpec {
  int64_t input_dim = 0;
  std::vector<int64_t> hidden = {128, 128};
  int64_t output_dim = 0;
  double leaky_slope = 0.01;
  double layer_norm_eps = 1e-5;

  // Number of linear layers (hidden.size() + 1).
  int num_layers() const { return static_cast<int>(hidden.size()) + 1; }
  int64_t fan_in(int layer) const { return layer == 0 ? input_dim : hidden[layer - 1]; }
  int64_t fan_out(int layer) const {
    return layer == num_layers() - 1 ? output_dim : hidden[layer];
  }
  bool operator==(const MlpSpec& o) const {
    return input_dim == o.input_dim && hidden == o.hidden && output_dim == o.output_dim &&
           leaky_slope == o.leaky_slope && layer_norm_eps == o.layer_norm_eps;
  }
};

// INVALID_ARGUMENT unless all dimensions are positive and eps > 0.
absl::Status ValidateMlpSpec(const MlpSpec& spec);

// Where layer l's weight and bias start in the flat buffer.
struct LayerOffsets {
  int64_t weight = 0;  // fan_out x fan_in, row-major
  int64_t bias = 0;    // fan_out
};
std::vector<LayerOffsets> ComputeLayerOffsets(const MlpSpec& spec);
int64_t NumParameters(const MlpSpec& spec);

// Sparse initialisation (stream-x): for every linear layer, weights from
// LeCun-uniform U(-sqrt(1/fan_in), sqrt(1/fan_in)), then for every output unit
// ceil(sparsity * fan_in) of its incoming weights, chosen uniformly at random,
// set to zero; biases zero. Deterministic in seed. params.size() must equal
// NumParameters(spec).
void SparseInitialize(const MlpSpec& spec, double sparsity, uint64_t seed,
                      absl::Span<float> params);

class Network {
 public:
  virtual ~Network() = default;

  virtual const MlpSpec& spec() const = 0;
  int64_t num_params() const { return NumParameters(spec()); }

  virtual absl::Span<float> params() = 0;
  virtual absl::Span<const float> params() const = 0;

  // input.size() == spec().input_dim, output.size() == spec().output_dim.
  virtual void Forward(absl::Span<const float> input, absl::Span<float> output) = 0;
  // cotangent.size() == spec().output_dim; see the contract above.
  virtual absl::Span<const float> Backward(absl::Span<const float> cotangent) = 0;

  virtual std::unique_ptr<Network> Clone() const = 0;
};

}  // namespace rlx

#endif  // RLX_MODELS_NETWORK_H_
