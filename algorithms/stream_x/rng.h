// A seeded random generator with portable conversions (the same numbers with
// any standard library), so that the same seed gives the same run bit for bit.
// Not thread-safe: each actor and learner owns one.
#ifndef RLX_ALGORITHMS_STREAM_X_RNG_H_
#define RLX_ALGORITHMS_STREAM_X_RNG_H_

#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>

namespace rlx {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : gen_(seed) {}

  // Uniform in [0, 1) with 53 random bits.
  double Uniform01() { return static_cast<double>(gen_() >> 11) * 0x1.0p-53; }
  // Uniform integer in [0, n), n > 0.
  int64_t UniformInt(int64_t n) {
    const int64_t k = static_cast<int64_t>(Uniform01() * static_cast<double>(n));
    return k < n ? k : n - 1;
  }
  // Standard normal (Box-Muller; one value per call, no cached state).
  double Normal() {
    const double u1 = 1.0 - Uniform01();  // (0, 1]
    const double u2 = Uniform01();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

  // The generator's full state as text, and back (for checkpoints).
  std::string SaveState() const {
    std::ostringstream out;
    out << gen_;
    return out.str();
  }
  bool RestoreState(const std::string& state) {
    std::istringstream in(state);
    std::mt19937_64 gen;
    in >> gen;
    if (in.fail()) return false;
    gen_ = gen;
    return true;
  }

 private:
  std::mt19937_64 gen_;
};

}  // namespace rlx

#endif  // RLX_ALGORITHMS_STREAM_X_RNG_H_
