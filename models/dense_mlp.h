// DenseMlp: a small fully connected network evaluated on batches, with a
// hand-written backward pass, on BLAS (cblas_sgemm; the serial OpenBLAS that
// scripts/install-deps.sh selects). No LibTorch: for batch learners (PPO) and
// batched acting, where LibTorch's per-op overhead would dominate tiny
// networks.
//
// Architecture: Linear -> tanh for every hidden layer, then a Linear output
// (CleanRL's PPO networks). Parameters live in one flat buffer, layer by
// layer [W_0 (out x in, row-major), b_0, W_1, b_1, ...], like models/network.h.
//
// Usage: Forward(x, batch, &cache) keeps what Backward needs in `cache`;
// Backward(cache, grad_output, grad_params) ADDS the parameter gradient of
// sum(grad_output * output) to grad_params (so minibatch pieces and several
// losses accumulate) and may also return the input gradient. Parameters must
// not change between a Forward and its Backward.
//
// Thread-safety: const methods may run concurrently with separate caches;
// params are written only by the owner (an optimizer) between passes.
#ifndef RLX_MODELS_DENSE_MLP_H_
#define RLX_MODELS_DENSE_MLP_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "models/batch_function.h"

namespace rlx {

struct DenseMlpSpec {
  int64_t input_dim = 0;
  std::vector<int64_t> hidden = {64, 64};
  int64_t output_dim = 0;
  int num_layers() const { return static_cast<int>(hidden.size()) + 1; }
  int64_t fan_in(int l) const { return l == 0 ? input_dim : hidden[l - 1]; }
  int64_t fan_out(int l) const { return l == num_layers() - 1 ? output_dim : hidden[l]; }
};

absl::Status ValidateDenseMlpSpec(const DenseMlpSpec& spec);

// tanh as the hidden layers compute it: a rational approximation (odd
// degree-13 over even degree-6 polynomial, inputs clamped to +-7.905), within
// 4e-7 of std::tanh everywhere and several times faster than libm's tanhf,
// which dominated PPO's updates.
float TanhApprox(float x);
int64_t DenseMlpNumParameters(const DenseMlpSpec& spec);

// Activations of one Forward (reused across calls to avoid allocation).
struct DenseMlpCache : BatchCache {
  int64_t batch = 0;
  std::vector<const float*> inputs;      // per layer: its input (x, or the previous output)
  std::vector<std::vector<float>> outputs;  // per layer: batch x fan_out (tanh applied on hidden)
  std::vector<float> grad, grad_next;     // Backward scratch
};

class DenseMlp : public BatchFunction {
 public:
  explicit DenseMlp(DenseMlpSpec spec);

  // BatchFunction (one parameter block; the cache is a DenseMlpCache).
  int64_t input_dim() const override { return spec_.input_dim; }
  int64_t output_dim() const override { return spec_.output_dim; }
  std::vector<absl::Span<float>> parameter_blocks() override { return {params()}; }
  std::vector<absl::Span<const float>> parameter_blocks() const override { return {params()}; }
  void Initialize(double hidden_gain, double output_gain, uint64_t seed) override {
    OrthogonalInitialize(hidden_gain, output_gain, seed);
  }
  std::unique_ptr<BatchCache> NewCache() const override { return std::make_unique<DenseMlpCache>(); }
  absl::Span<const float> Forward(const float* x, int64_t batch, BatchCache* cache) const override {
    return Forward(x, batch, static_cast<DenseMlpCache*>(cache));
  }
  void Backward(BatchCache* cache, const float* grad_output, float* grad_params) const override {
    Backward(static_cast<DenseMlpCache*>(cache), grad_output, grad_params, nullptr);
  }

  const DenseMlpSpec& spec() const { return spec_; }
  int64_t num_params() const override { return static_cast<int64_t>(params_.size()); }
  absl::Span<float> params() { return absl::MakeSpan(params_); }
  absl::Span<const float> params() const { return params_; }

  // Orthogonal initialisation (Saxe et al.; CleanRL's layer_init): each
  // weight matrix is a random orthogonal matrix times the layer's gain
  // (hidden_gain for hidden layers, output_gain for the output layer);
  // biases 0. Deterministic in seed.
  void OrthogonalInitialize(double hidden_gain, double output_gain, uint64_t seed);

  // x: batch x input_dim, row-major. Returns batch x output_dim (in cache).
  absl::Span<const float> Forward(const float* x, int64_t batch, DenseMlpCache* cache) const;
  // grad_output: batch x output_dim. Adds d(sum grad_output * out)/dparams to
  // grad_params (num_params floats). grad_input (optional): batch x input_dim.
  void Backward(DenseMlpCache* cache, const float* grad_output, float* grad_params,
                float* grad_input = nullptr) const;

 private:
  struct Offsets {
    int64_t weight = 0, bias = 0;
  };
  DenseMlpSpec spec_;
  std::vector<Offsets> offsets_;
  std::vector<float> params_;
};

}  // namespace rlx

#endif  // RLX_MODELS_DENSE_MLP_H_
