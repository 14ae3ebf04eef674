// The LibTorch backend of Network (models/network.h), "torch_mlp", and the autograd
// reference it is tested against.
//
// TorchMlp keeps parameters and gradients in one flat at::Tensor each; layer
// weights and biases are views into them. Forward uses ATen out= ops into
// preallocated buffers; Backward is written by hand with ATen ops (outer
// products, transposed mat-vec, LeakyReLU and LayerNorm backward kernels), not
// autograd, because per-op overhead dominates at batch 1. AutogradGradient
// computes the same gradient with LibTorch autograd from the same flat buffer
// and is the reference in tests and benchmarks.
//
// This header does not include LibTorch; only torch_mlp.cc does.
#ifndef RLX_MODELS_TORCH_MLP_H_
#define RLX_MODELS_TORCH_MLP_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "models/mlp.h"
#include "models/network.h"

namespace rlx {

// The "torch_mlp" backend (models/backends.h): the MLP of
// MlpSpecFrom(spec), initialised with SparseInitialize.
absl::StatusOr<std::unique_ptr<Network>> MakeTorchMlp(const NetworkSpec& spec);

// A network initialised with SparseInitialize(spec, sparsity, seed).
absl::StatusOr<std::unique_ptr<Network>> CreateTorchMlp(const MlpSpec& spec, double sparsity,
                                                       uint64_t seed);
// A network holding a copy of the given parameters (size NumParameters(spec)).
absl::StatusOr<std::unique_ptr<Network>> CreateTorchMlp(const MlpSpec& spec,
                                                       absl::Span<const float> params);

// Reference gradient through LibTorch autograd: output (resized to
// output_dim) = net(input) and grad (resized to NumParameters) = gradient of
// sum_k cotangent[k] * output[k] w.r.t. params.
absl::Status AutogradGradient(const MlpSpec& spec, absl::Span<const float> params,
                              absl::Span<const float> input, absl::Span<const float> cotangent,
                              std::vector<float>* output, std::vector<float>* grad);

// Sets LibTorch's intra-op thread count (the stream-x trainer uses 1).
void SetTorchThreads(int num_threads);

// Whether this LibTorch build can use a CUDA device now (false on Debian's
// CPU-only LibTorch).
bool TorchCudaAvailable();

}  // namespace rlx

#endif  // RLX_MODELS_TORCH_MLP_H_
