// The layout of the MLP backends' flat parameter buffer, their
// initialisation and a plain C++ forward pass to the hidden layers (used for
// monitors). Every hidden layer is Linear -> LayerNorm without learnable
// gain/bias over the whole hidden vector (eps 1e-5) -> LeakyReLU(slope); the
// output layer is Linear. Torch-free; stateless.
#ifndef RLX_MODELS_MLP_H_
#define RLX_MODELS_MLP_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "models/network.h"

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

// The MLP a NetworkSpec describes (default slope and eps).
MlpSpec MlpSpecFrom(const NetworkSpec& spec);

// Hidden-layer activations (after the LeakyReLU) of one input, one vector
// per hidden layer, computed from the flat parameters.
void MlpHiddenActivations(const MlpSpec& spec, absl::Span<const float> params,
                          absl::Span<const float> input, std::vector<std::vector<float>>* layers);

}  // namespace rlx

#endif  // RLX_MODELS_MLP_H_
