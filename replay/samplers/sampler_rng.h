// SamplerRng: the seeded random stream every sampler draws from.
//
// Built on std::mt19937_64, whose output sequence the C++ standard fixes, with
// our own conversions to doubles and bounded integers (the std distributions
// are implementation-defined), so a seed gives the same draws on every
// platform and standard library. Not thread-safe; each sampler owns one.
#ifndef RLX_REPLAY_SAMPLERS_SAMPLER_RNG_H_
#define RLX_REPLAY_SAMPLERS_SAMPLER_RNG_H_

#include <cstdint>
#include <random>

namespace rlx {

class SamplerRng {
 public:
  explicit SamplerRng(uint64_t seed) : engine_(seed) {}

  // Uniform on [0, 1), 53 random bits.
  double UniformDouble() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  // Uniform on [0, n) without modulo bias (Lemire's multiply-and-reject).
  // Requires n > 0.
  uint64_t UniformIndex(uint64_t n) {
    unsigned __int128 product = static_cast<unsigned __int128>(engine_()) * n;
    uint64_t low = static_cast<uint64_t>(product);
    if (low < n) {
      const uint64_t threshold = -n % n;  // 2^64 mod n
      while (low < threshold) {
        product = static_cast<unsigned __int128>(engine_()) * n;
        low = static_cast<uint64_t>(product);
      }
    }
    return static_cast<uint64_t>(product >> 64);
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace rlx

#endif  // RLX_REPLAY_SAMPLERS_SAMPLER_RNG_H_
