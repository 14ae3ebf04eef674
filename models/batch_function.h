// BatchFunction: a differentiable function of a batch of input rows with
// flat float parameters and a hand-written backward pass, the form of
// network a batch learner (PPO) trains without LibTorch. Implementations:
// DenseMlp (dense_mlp.h) and GraphNet (graph_net.h).
//
// Forward(x, batch, cache) keeps what Backward needs in `cache` (made by
// NewCache; one per concurrent caller). Backward ADDS the parameter gradient
// of sum(grad_output * output) to grad_params, laid out as the concatenation
// of parameter_blocks() in order. Parameters must not change between a
// Forward and its Backward.
//
// Thread-safety: const methods may run concurrently with separate caches;
// parameters are written only by the owner between passes.
#ifndef RLX_MODELS_BATCH_FUNCTION_H_
#define RLX_MODELS_BATCH_FUNCTION_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/types/span.h"

namespace rlx {

struct BatchCache {
  virtual ~BatchCache() = default;
};

class BatchFunction {
 public:
  virtual ~BatchFunction() = default;
  virtual int64_t input_dim() const = 0;
  virtual int64_t output_dim() const = 0;
  virtual int64_t num_params() const = 0;
  // The parameters as contiguous blocks, always in the same order.
  virtual std::vector<absl::Span<float>> parameter_blocks() = 0;
  virtual std::vector<absl::Span<const float>> parameter_blocks() const = 0;
  // Orthogonal initialisation (deterministic in seed): hidden layers get
  // hidden_gain, the final output layer output_gain.
  virtual void Initialize(double hidden_gain, double output_gain, uint64_t seed) = 0;
  virtual std::unique_ptr<BatchCache> NewCache() const = 0;
  // x: batch x input_dim(). Returns batch x output_dim() (held in cache).
  virtual absl::Span<const float> Forward(const float* x, int64_t batch,
                                          BatchCache* cache) const = 0;
  virtual void Backward(BatchCache* cache, const float* grad_output, float* grad_params) const = 0;
};

// Copies every parameter into *out (resized), block after block, and back.
void GetBatchFunctionParameters(const BatchFunction& f, std::vector<float>* out);
void SetBatchFunctionParameters(BatchFunction* f, const float* flat);

}  // namespace rlx

#endif  // RLX_MODELS_BATCH_FUNCTION_H_
