// Flat-buffer loops of the stream-x eligibility trace and ObGD step
// (algorithms/stream_x/obgd.h), shared by every network backend: plain C++,
// vectorised (models/simd.h). Torch-free.
#ifndef RLX_MODELS_TRACE_KERNELS_H_
#define RLX_MODELS_TRACE_KERNELS_H_

#include <cstdint>

namespace rlx {

// z <- decay * z + g over n entries; returns sum |z| afterwards.
double DecayAddL1(float decay, const float* g, float* z, int64_t n);

// z <- decay * z + outer(g, x) for a (rows x cols) row-major block; returns
// sum |z| of the block afterwards. The trace of a linear layer's weights.
double DecayAddOuterL1(float decay, const float* g, int64_t rows, const float* x, int64_t cols,
                       float* z);

// w <- w + scale * z; then z <- 0 when reset.
void AddScaledAndMaybeReset(float scale, float* z, float* w, int64_t n, bool reset);

}  // namespace rlx

#endif  // RLX_MODELS_TRACE_KERNELS_H_
