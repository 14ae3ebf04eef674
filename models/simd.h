// Function multi-versioning for the hot loops of the CPU network backend and
// the stream-x optimizer: RLX_TARGET_CLONES compiles a function for the
// x86-64-v3 level (AVX2 + FMA) and for the baseline, and the loader picks one
// by the CPU's features (not by its model name, which "arch=haswell" would
// test), so binaries stay portable (images run on any x86-64) and still use
// the wide units where they exist. Elsewhere (other architectures, clang) it
// is empty, and so under ThreadSanitizer (RLX_TSAN, cmake/rlx.cmake): GCC
// instruments the clones' resolvers, which the loader runs while relocating
// the program, before the TSan runtime is up (the process dies with SIGSEGV
// before main); TSan builds compile them for the host's x86-64-v3 alone.
// The loops use the eight-float vector type below where the compiler's own
// vectorisation falls short (reductions, register blocking) and `#pragma omp
// simd` elsewhere (compiled with -fopenmp-simd, no OpenMP runtime).
#ifndef RLX_MODELS_SIMD_H_
#define RLX_MODELS_SIMD_H_

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__) && \
    !defined(__SANITIZE_THREAD__) && !defined(RLX_TSAN)
#define RLX_TARGET_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#elif defined(RLX_TSAN_X86_64_V3)
// TSan builds on an x86-64-v3 host: that clone only (no resolver).
#define RLX_TARGET_CLONES __attribute__((target("arch=x86-64-v3")))
#else
#define RLX_TARGET_CLONES
#endif

namespace rlx {

// Eight floats as one value (GCC vector extensions: one AVX register in an
// x86-64-v3 clone, two SSE registers in the baseline). V8u is the unaligned
// form for loads and stores from float buffers.
typedef float V8 __attribute__((vector_size(32)));
typedef float V8u __attribute__((vector_size(32), aligned(4)));
inline V8 Load8(const float* p) { return *reinterpret_cast<const V8u*>(p); }
inline void Store8(float* p, V8 v) { *reinterpret_cast<V8u*>(p) = v; }
inline V8 Broadcast8(float x) { return V8{x, x, x, x, x, x, x, x}; }
typedef int V8i __attribute__((vector_size(32)));
inline V8 Abs8(V8 v) {
  return reinterpret_cast<V8>(reinterpret_cast<V8i>(v) & 0x7fffffff);
}
inline float Sum8(V8 v) {
  return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}

}  // namespace rlx

#endif  // RLX_MODELS_SIMD_H_
