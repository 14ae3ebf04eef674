// Helpers for the sampler tests: config builders, sample tallies and a
// chi-square goodness-of-fit check.
#ifndef RLX_TESTS_REPLAY_SAMPLERS_SAMPLER_TEST_UTIL_H_
#define RLX_TESTS_REPLAY_SAMPLERS_SAMPLER_TEST_UTIL_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "replay.pb.h"
#include "replay/samplers/interface.h"

namespace rlx::sampler_test {

inline SamplerConfig UniformConfig() {
  SamplerConfig config;
  config.mutable_uniform();
  return config;
}
inline SamplerConfig FifoConfig() {
  SamplerConfig config;
  config.mutable_fifo();
  return config;
}
inline SamplerConfig LifoConfig() {
  SamplerConfig config;
  config.mutable_lifo();
  return config;
}
inline SamplerConfig PrioritizedConfig(double priority_exponent, double importance_exponent) {
  SamplerConfig config;
  config.mutable_prioritized()->set_priority_exponent(priority_exponent);
  config.mutable_prioritized()->set_importance_exponent(importance_exponent);
  return config;
}
inline SamplerConfig ReturnWeightedConfig(double temperature) {
  SamplerConfig config;
  config.mutable_return_weighted()->set_temperature(temperature);
  return config;
}

// CreateSampler that fails the test on error.
inline std::unique_ptr<Sampler> MakeSampler(const SamplerConfig& config, uint64_t seed = 1) {
  auto sampler = CreateSampler(config, seed);
  EXPECT_TRUE(sampler.ok()) << sampler.status();
  return sampler.ok() ? std::move(*sampler) : nullptr;
}

// Draws num_samples keys and counts them by position in keys (a key outside
// keys fails the test).
inline std::vector<int64_t> CountSamples(Sampler& sampler, const std::vector<uint64_t>& keys,
                                         int64_t num_samples) {
  absl::flat_hash_map<uint64_t, int64_t> index;
  for (int64_t i = 0; i < static_cast<int64_t>(keys.size()); ++i) index[keys[i]] = i;
  std::vector<int64_t> counts(keys.size(), 0);
  for (int64_t s = 0; s < num_samples; ++s) {
    auto choice = sampler.Sample();
    if (!choice.ok()) {
      ADD_FAILURE() << choice.status();
      break;
    }
    auto it = index.find(choice->key);
    if (it == index.end()) {
      ADD_FAILURE() << "sampled unknown key " << choice->key;
      continue;
    }
    ++counts[it->second];
  }
  return counts;
}

// Pearson's chi-square goodness of fit of counts (num_samples draws in all)
// against probabilities (which sum to 1). Bins whose expected count is below 5
// are pooled into one bin, as the test's approximation requires; a bin of
// probability 0 must have count 0 (checked separately by ExpectFits).
struct ChiSquare {
  double statistic = 0;
  int degrees_of_freedom = 0;
  // Critical value at significance 0.001 (Wilson-Hilferty approximation).
  double critical_value = 0;
};

inline ChiSquare ComputeChiSquare(const std::vector<int64_t>& counts,
                                  const std::vector<double>& probabilities) {
  int64_t num_samples = 0;
  for (int64_t c : counts) num_samples += c;
  ChiSquare result;
  int bins = 0;
  double pooled_expected = 0;
  int64_t pooled_observed = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    const double expected = probabilities[i] * static_cast<double>(num_samples);
    if (expected < 5) {
      pooled_expected += expected;
      pooled_observed += counts[i];
      continue;
    }
    const double diff = static_cast<double>(counts[i]) - expected;
    result.statistic += diff * diff / expected;
    ++bins;
  }
  if (pooled_expected > 0) {
    const double diff = static_cast<double>(pooled_observed) - pooled_expected;
    result.statistic += diff * diff / pooled_expected;
    ++bins;
  }
  result.degrees_of_freedom = bins > 1 ? bins - 1 : 1;
  const double k = result.degrees_of_freedom;
  const double z = 3.090232;  // upper 0.001 quantile of the standard normal
  const double h = 2.0 / (9.0 * k);
  result.critical_value = k * std::pow(1.0 - h + z * std::sqrt(h), 3);
  return result;
}

// Expects the counts to fit the probabilities: chi-square below its 0.001
// critical value, and no draws of a probability-0 bin.
inline void ExpectFits(const std::vector<int64_t>& counts,
                       const std::vector<double>& probabilities) {
  ASSERT_EQ(counts.size(), probabilities.size());
  for (size_t i = 0; i < counts.size(); ++i) {
    if (probabilities[i] == 0) {
      EXPECT_EQ(counts[i], 0) << "bin " << i << " has probability 0";
    }
  }
  const ChiSquare chi = ComputeChiSquare(counts, probabilities);
  EXPECT_LT(chi.statistic, chi.critical_value)
      << "chi-square " << chi.statistic << " with " << chi.degrees_of_freedom
      << " degrees of freedom exceeds the 0.001 critical value " << chi.critical_value;
}

// Normalizes non-negative weights to probabilities.
inline std::vector<double> Normalize(const std::vector<double>& weights) {
  double total = 0;
  for (double w : weights) total += w;
  std::vector<double> probabilities;
  for (double w : weights) probabilities.push_back(w / total);
  return probabilities;
}

// Relative closeness for probabilities and weights.
inline bool NearlyEqual(double a, double b, double relative = 1e-12) {
  return std::abs(a - b) <= relative * std::max(std::abs(a), std::abs(b));
}

}  // namespace rlx::sampler_test

#endif  // RLX_TESTS_REPLAY_SAMPLERS_SAMPLER_TEST_UTIL_H_
