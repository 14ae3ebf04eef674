// Flat-buffer loops of the stream-x eligibility trace and ObGD step
// (algorithms/stream_x/obgd.h), shared by every network backend: plain C++,
// vectorised (models/simd.h). Torch-free.
//
// The arithmetic is fixed, so that backends which produce the same gradient
// produce the same trace, norm and parameters bit for bit: this file is
// compiled with -ffp-contract=off (z <- decay * z + g rounds the product and
// the sum), and every sum |z| is added up in one order (L1Norm), whichever
// function computes it.
#ifndef RLX_MODELS_TRACE_KERNELS_H_
#define RLX_MODELS_TRACE_KERNELS_H_

#include <cstdint>

namespace rlx {

// sum |z| over n entries, in the fixed order: blocks of 1024 entries, each
// summed in float over 32 interleaved partial sums (entry i of a block into
// sum i % 32 while a whole group of 32 remains, then groups of 8 into the
// first 8, the rest one by one), the blocks added up in double.
double L1Norm(const float* z, int64_t n);

// z <- decay * z + g over n entries; returns L1Norm(z) afterwards.
double DecayAddL1(float decay, const float* g, float* z, int64_t n);

// z <- decay * z + outer(g, x) for a (rows x cols) row-major block, each
// entry the same as DecayAddL1 with g the rounded product g[r] * x[c]. The
// trace of a linear layer's weights without a gradient buffer.
void DecayAddOuter(float decay, const float* g, int64_t rows, const float* x, int64_t cols,
                   float* z);

// z <- decay * z + g over n entries (DecayAddL1 without the norm).
void DecayAdd(float decay, const float* g, float* z, int64_t n);

// w <- w + scale * z; then z <- 0 when reset.
void AddScaledAndMaybeReset(float scale, float* z, float* w, int64_t n, bool reset);

}  // namespace rlx

#endif  // RLX_MODELS_TRACE_KERNELS_H_
