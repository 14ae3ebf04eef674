#include "models/trace_kernels.h"

#include <cmath>

#include "models/simd.h"

// Compiled with -ffp-contract=off (models/CMakeLists.txt): decay * z + g is
// two roundings in every clone and every backend.

namespace rlx {
namespace {

constexpr int64_t kBlock = 1024;

// One block's sum |z| (len <= kBlock) in the order L1Norm documents.
inline float BlockL1(const float* z, int64_t len) {
  V8 acc[4] = {};
  int64_t i = 0;
  for (; i + 32 <= len; i += 32) {
    for (int k = 0; k < 4; ++k) acc[k] += Abs8(Load8(z + i + 8 * k));
  }
  for (; i + 8 <= len; i += 8) acc[0] += Abs8(Load8(z + i));
  float tail = 0.0f;
  for (; i < len; ++i) tail += std::fabs(z[i]);
  return Sum8((acc[0] + acc[1]) + (acc[2] + acc[3])) + tail;
}

inline void DecayAddBlock(float decay, const float* g, float* z, int64_t len) {
#pragma omp simd
  for (int64_t i = 0; i < len; ++i) z[i] = decay * z[i] + g[i];
}

}  // namespace

RLX_TARGET_CLONES double L1Norm(const float* z, int64_t n) {
  double total = 0.0;
  for (int64_t start = 0; start < n; start += kBlock) {
    total += BlockL1(z + start, n - start < kBlock ? n - start : kBlock);
  }
  return total;
}

RLX_TARGET_CLONES double DecayAddL1(float decay, const float* g, float* z, int64_t n) {
  // Block by block, so the norm reads what was just written from the cache.
  double total = 0.0;
  for (int64_t start = 0; start < n; start += kBlock) {
    const int64_t len = n - start < kBlock ? n - start : kBlock;
    DecayAddBlock(decay, g + start, z + start, len);
    total += BlockL1(z + start, len);
  }
  return total;
}

RLX_TARGET_CLONES void DecayAdd(float decay, const float* g, float* z, int64_t n) {
  DecayAddBlock(decay, g, z, n);
}

RLX_TARGET_CLONES void DecayAddOuter(float decay, const float* g, int64_t rows, const float* x,
                                     int64_t cols, float* z) {
  for (int64_t r = 0; r < rows; ++r) {
    const float gr = g[r];
    float* zr = z + r * cols;
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) {
      const float product = gr * x[c];
      zr[c] = decay * zr[c] + product;
    }
  }
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
