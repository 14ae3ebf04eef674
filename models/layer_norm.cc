#include "models/layer_norm.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string_view>

#include "models/simd.h"

// Compiled with -ffp-contract=off (models/CMakeLists.txt): every a * b + c
// below rounds twice unless written as std::fma.

namespace rlx {
namespace {

constexpr int64_t kLanes = 8;       // LibTorch's Vectorized<float> under AVX2
constexpr int64_t kChunk = 16;      // vectors per Welford chunk (moments_utils.h)
constexpr int64_t kMaxDepth = 64;   // cascade levels: enough for any int64 length

// Merges the moments (count m0_add; means m1_add, sums of squared deviations
// m2_add) into (m0, m1, m2): AddMoments for T = float, AddMomentsVec lane by
// lane for T = V8 (a float operand of a V8 operation is broadcast).
template <typename T>
inline void Merge(int64_t m0_add, T m1_add, T m2_add, int64_t* m0, T* m1, T* m2) {
  const int64_t total = *m0 + m0_add;
  const float c = total == 0 ? 0.0f : static_cast<float>(m0_add) / static_cast<float>(total);
  const T delta = m1_add - *m1;
  *m1 = *m1 + c * delta;
  *m2 = *m2 + (m2_add + delta * delta * c * static_cast<float>(*m0));
  *m0 = total;
}

// 1 / (j + 1) for the j-th value of a chunk, as floats.
constexpr float kReciprocals[kChunk] = {
    1.0f / 1,  1.0f / 2,  1.0f / 3,  1.0f / 4,  1.0f / 5,  1.0f / 6,  1.0f / 7,  1.0f / 8,
    1.0f / 9,  1.0f / 10, 1.0f / 11, 1.0f / 12, 1.0f / 13, 1.0f / 14, 1.0f / 15, 1.0f / 16};

int64_t CeilLog2(int64_t x) {
  if (x <= 2) return 1;
  return 64 - __builtin_clzll(static_cast<uint64_t>(x) - 1);
}

// Mean and biased variance of x[0..n) (RowwiseMoments).
RLX_TARGET_CLONES void Moments(const float* x, int64_t n, float* mean, float* var) {
  const int64_t vectors = n / kLanes;
  const int64_t chunks = (vectors + kChunk - 1) / kChunk;
  const int64_t depth = CeilLog2(chunks);
  int64_t m0_stack[kMaxDepth];
  V8 m1_stack[kMaxDepth], m2_stack[kMaxDepth];
  for (int64_t i = 0; i < depth; ++i) {
    m0_stack[i] = 0;
    m1_stack[i] = m2_stack[i] = V8{};
  }
  for (int64_t i = 0; i < chunks; ++i) {
    const float* xc = x + i * kChunk * kLanes;
    const int64_t count = std::min(kChunk, vectors - i * kChunk);
    V8 m1 = {}, m2 = {};
    for (int64_t j = 0; j < count; ++j) {
      const V8 xv = Load8(xc + j * kLanes);
      const V8 delta = xv - m1;
      m1 = m1 + delta * Broadcast8(kReciprocals[j]);
      m2 = m2 + delta * (xv - m1);
    }
    Merge(count, m1, m2, &m0_stack[0], &m1_stack[0], &m2_stack[0]);
    int64_t mask = i + 1;
    for (int64_t j = 1; j < depth && (mask & 1) == 0; ++j) {
      Merge(m0_stack[j - 1], m1_stack[j - 1], m2_stack[j - 1], &m0_stack[j], &m1_stack[j],
                 &m2_stack[j]);
      m0_stack[j - 1] = 0;
      m1_stack[j - 1] = V8{};
      m2_stack[j - 1] = V8{};
      mask >>= 1;
    }
  }
  for (int64_t i = 1; i < depth; ++i) {
    Merge(m0_stack[i], m1_stack[i], m2_stack[i], &m0_stack[0], &m1_stack[0], &m2_stack[0]);
  }
  // The tail that fills no vector, one value at a time; then the lanes.
  int64_t m0 = 0;
  float m1 = 0.0f, m2 = 0.0f;
  for (int64_t i = vectors * kLanes; i < n; ++i) {
    const float delta = x[i] - m1;
    ++m0;
    m1 = m1 + delta / static_cast<float>(m0);
    m2 = m2 + delta * (x[i] - m1);
  }
  for (int64_t lane = 0; lane < kLanes; ++lane) {
    Merge(vectors, m1_stack[0][lane], m2_stack[0][lane], &m0, &m1, &m2);
  }
  *mean = m1;
  *var = m2 / static_cast<float>(n);
}

// The sum of a's lanes in LibTorch's AVX2 order (halves, then quarters, then
// pairs: lane i meets lane i ^ 4, then i ^ 2, then i ^ 1).
inline float ReduceLanes(V8 a) {
  const float q0 = a[0] + a[4], q1 = a[1] + a[5], q2 = a[2] + a[6], q3 = a[3] + a[7];
  return (q0 + q2) + (q1 + q3);
}

}  // namespace

RLX_TARGET_CLONES void LayerNormForward(const float* x, int64_t n, float eps, float* y,
                                        float* mean, float* rstd) {
  float mu = 0.0f, var = 0.0f;
  Moments(x, n, &mu, &var);
  const float r = 1.0f / std::sqrt(var + eps);
  const float bias = -r * mu;
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) y[j] = std::fma(x[j], r, bias);
  *mean = mu;
  *rstd = r;
}

RLX_TARGET_CLONES void LayerNormBackward(const float* dy, const float* x, int64_t n, float mean,
                                         float rstd, float* dx) {
  float ds = 0.0f, db = 0.0f;
  if (n < kLanes) {
    // Fewer values than lanes: summed in order.
    ds = dy[0] * x[0];
    db = dy[0];
    for (int64_t j = 1; j < n; ++j) {
      ds = ds + dy[j] * x[j];
      db = db + dy[j];
    }
  } else {
    V8 s = Load8(dy) * Load8(x), b = Load8(dy);
    int64_t d = kLanes;
    for (; d < n - n % kLanes; d += kLanes) {
      const V8 dyv = Load8(dy + d), xv = Load8(x + d);
      for (int64_t lane = 0; lane < kLanes; ++lane) s[lane] = std::fma(dyv[lane], xv[lane], s[lane]);
      b = b + dyv;
    }
    for (int64_t lane = 0; d + lane < n; ++lane) {
      s[lane] = std::fma(dy[d + lane], x[d + lane], s[lane]);
      b[lane] = b[lane] + dy[d + lane];
    }
    ds = ReduceLanes(s);
    db = ReduceLanes(b);
  }
  const float scale = 1.0f / static_cast<float>(n);
  const float a = rstd;
  const float bb = std::fma(db, mean, -ds) * a * a * a * scale;
  const float c = std::fma(-bb, mean, -(db * a * scale));
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) dx[j] = std::fma(bb, x[j], a * dy[j]) + c;
}

bool SelectLibTorchAvx2Kernels() {
#if defined(__x86_64__) && defined(__GNUC__)
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return false;
  setenv("ATEN_CPU_CAPABILITY", "avx2", /*overwrite=*/0);
  const char* chosen = std::getenv("ATEN_CPU_CAPABILITY");
  return chosen != nullptr && std::string_view(chosen) == "avx2";
#else
  return false;
#endif
}

}  // namespace rlx
