#include "models/trace_kernels.h"

#include <cmath>

#include "models/simd.h"

namespace rlx {

// Float partial sums over blocks of kBlock entries, added up in double, so
// the norm of a large buffer keeps its precision.
constexpr int64_t kBlock = 1024;

RLX_TARGET_CLONES double DecayAddL1(float decay, const float* g, float* z, int64_t n) {
  double total = 0.0;
  for (int64_t start = 0; start < n; start += kBlock) {
    const int64_t end = start + kBlock < n ? start + kBlock : n;
    float l1 = 0.0f;
#pragma omp simd reduction(+ : l1)
    for (int64_t i = start; i < end; ++i) {
      const float v = decay * z[i] + g[i];
      z[i] = v;
      l1 += std::fabs(v);
    }
    total += l1;
  }
  return total;
}

RLX_TARGET_CLONES double DecayAddOuterL1(float decay, const float* g, int64_t rows,
                                         const float* x, int64_t cols, float* z) {
  // One vector of partial sums across all rows, reduced once; blocks of
  // rows go to a double so large layers keep the norm's precision.
  const int64_t body = cols - cols % 8;
  const V8 d = Broadcast8(decay);
  double total = 0.0;
  for (int64_t r0 = 0; r0 < rows; r0 += 64) {
    const int64_t r1 = r0 + 64 < rows ? r0 + 64 : rows;
    // Four partial-sum vectors: one would wait on its own additions.
    V8 acc[4] = {};
    float tail = 0.0f;
    for (int64_t r = r0; r < r1; ++r) {
      const float gr = g[r];
      const V8 gv = Broadcast8(gr);
      float* zr = z + r * cols;
      int64_t c = 0;
      for (; c + 32 <= body; c += 32) {
        for (int k = 0; k < 4; ++k) {
          const V8 v = d * Load8(zr + c + 8 * k) + gv * Load8(x + c + 8 * k);
          Store8(zr + c + 8 * k, v);
          acc[k] += Abs8(v);
        }
      }
      for (; c < body; c += 8) {
        const V8 v = d * Load8(zr + c) + gv * Load8(x + c);
        Store8(zr + c, v);
        acc[0] += Abs8(v);
      }
      for (; c < cols; ++c) {
        const float v = decay * zr[c] + gr * x[c];
        zr[c] = v;
        tail += std::fabs(v);
      }
    }
    total += static_cast<double>(Sum8((acc[0] + acc[1]) + (acc[2] + acc[3]))) + tail;
  }
  return total;
}

RLX_TARGET_CLONES void AddScaledAndMaybeReset(float scale, float* z, float* w, int64_t n,
                                              bool reset) {
  if (reset) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) {
      w[i] += scale * z[i];
      z[i] = 0.0f;
    }
  } else {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) w[i] += scale * z[i];
  }
}

}  // namespace rlx
