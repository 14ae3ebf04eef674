// LayerNorm without affine parameters, forward and backward, for one row of n
// floats, computed in the exact arithmetic order of LibTorch 1.13's CPU
// kernels on x86-64 machines with AVX2 (at::native_layer_norm and
// at::native_layer_norm_backward with M = 1): the Welford moments over chunks
// of 16 eight-float vectors with cascade merging, the lanes merged last; the
// backward's two sums as eight-lane accumulations reduced by halves; the
// multiply-adds LibTorch's compiled code fuses, fused here (std::fma), and no
// others (this file is compiled with -ffp-contract=off). Same inputs give
// bit-identical outputs (tests/models/cpu_mlp_test.cc checks them against
// ATen), so the two network backends take the same LeakyReLU slope for every
// unit and stream-x training stays in lock-step across them
// (docs/architecture.md, "Network backends").
#ifndef RLX_MODELS_LAYER_NORM_H_
#define RLX_MODELS_LAYER_NORM_H_

#include <cstdint>

namespace rlx {

// y <- (x - mean) * rstd, rstd = 1 / sqrt(var + eps) (biased variance).
// Writes mean and rstd, which the backward pass takes.
void LayerNormForward(const float* x, int64_t n, float eps, float* y, float* mean, float* rstd);

// dx <- the gradient w.r.t. the LayerNorm's input x, given dy (w.r.t. its
// output) and the forward's mean and rstd: with a = rstd,
//   b = (sum(dy) * mean - sum(dy * x)) * a^3 / n,  c = -b * mean - sum(dy) * a / n,
//   dx = a * dy + b * x + c.
void LayerNormBackward(const float* dy, const float* x, int64_t n, float mean, float rstd,
                       float* dx);

// Whether this CPU runs the LibTorch kernels these functions reproduce:
// x86-64 with AVX2 and FMA. There it also sets ATEN_CPU_CAPABILITY=avx2
// (unless already set), since an AVX-512 CPU would otherwise get LibTorch's
// sixteen-lane kernels, which sum in another order. Tests and benchmarks that
// compare the backends bit for bit call it before LibTorch's first operation.
bool SelectLibTorchAvx2Kernels();

}  // namespace rlx

#endif  // RLX_MODELS_LAYER_NORM_H_
