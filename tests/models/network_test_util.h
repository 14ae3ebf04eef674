// Helpers shared by the network backend tests (one test binary, models_test).
#ifndef RLX_TESTS_MODELS_NETWORK_TEST_UTIL_H_
#define RLX_TESTS_MODELS_NETWORK_TEST_UTIL_H_

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "models/mlp.h"

namespace rlx {

// n normal values of standard deviation `scale`, deterministic in seed.
inline std::vector<float> RandomVector(int64_t n, uint64_t seed, float scale = 1.0f) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = normal(gen);
  return v;
}

inline MlpSpec Spec(int64_t in, std::vector<int64_t> hidden, int64_t out) {
  MlpSpec spec;
  spec.input_dim = in;
  spec.hidden = std::move(hidden);
  spec.output_dim = out;
  return spec;
}

}  // namespace rlx

#endif  // RLX_TESTS_MODELS_NETWORK_TEST_UTIL_H_
