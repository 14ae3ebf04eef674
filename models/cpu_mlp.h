// The CPU backend of Network (models/network.h), "cpu_mlp": the MLP of
// models/mlp.h (Linear -> LayerNorm without affine -> LeakyReLU per hidden
// layer, Linear output) without LibTorch. At batch 1 a small network's cost
// in LibTorch is per-op overhead, not arithmetic; here forward, the
// hand-written backward and the stream-x trace step are a few passes over
// the flat buffers. The same parameter layout as "torch_mlp", so weights,
// checkpoints and the wire format move between the two unchanged.
//
// And the same arithmetic: the mat-vecs are the BLAS sgemv calls LibTorch
// makes, LayerNorm is models/layer_norm.h (LibTorch's AVX2 kernels' order),
// and the trace kernels are shared, so where LibTorch runs its AVX2 kernels
// the two backends' outputs, gradients and training runs are identical bit
// for bit (docs/algorithms.md, "Why the CPU backend copies LibTorch's
// summation order").
//
// AccumulateTrace is fused: the gradient of each layer goes straight into the
// trace (z <- decay * z + g) without a gradient buffer in between.
#ifndef RLX_MODELS_CPU_MLP_H_
#define RLX_MODELS_CPU_MLP_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "models/mlp.h"
#include "models/network.h"

namespace rlx {

// The "cpu_mlp" backend (models/backends.h): the MLP of MlpSpecFrom(spec),
// initialised with SparseInitialize (the same weights as "torch_mlp").
absl::StatusOr<std::unique_ptr<Network>> MakeCpuMlp(const NetworkSpec& spec);

// A network holding a copy of the given parameters (size NumParameters(spec)).
absl::StatusOr<std::unique_ptr<Network>> CreateCpuMlp(const MlpSpec& spec,
                                                     absl::Span<const float> params);

}  // namespace rlx

#endif  // RLX_MODELS_CPU_MLP_H_
