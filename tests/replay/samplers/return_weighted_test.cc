#include "replay/samplers/return_weighted.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/container/flat_hash_map.h"
#include "tests/replay/samplers/sampler_test_util.h"

namespace rlx {
namespace {

using sampler_test::ComputeChiSquare;
using sampler_test::CountSamples;
using sampler_test::ExpectFits;
using sampler_test::NearlyEqual;

std::unique_ptr<ReturnWeightedSampler> MakeReturnWeighted(double temperature, uint64_t seed = 1) {
  ReturnWeightedSamplerConfig config;
  config.set_temperature(temperature);
  auto sampler = ReturnWeightedSampler::Create(config, seed);
  EXPECT_TRUE(sampler.ok()) << sampler.status();
  return sampler.ok() ? std::move(*sampler) : nullptr;
}

// The definition: exp((G_i - max G) / T), normalized.
std::vector<double> Softmax(const std::vector<double>& returns, double temperature) {
  const double max_return = *std::max_element(returns.begin(), returns.end());
  std::vector<double> p;
  double total = 0;
  for (double g : returns) {
    p.push_back(std::exp((g - max_return) / temperature));
    total += p.back();
  }
  for (double& x : p) x /= total;
  return p;
}

// Checks that every draw reports the true probability of the key it chose.
void ExpectReportedProbabilitiesAreTrue(Sampler& sampler, const std::vector<uint64_t>& keys,
                                        const std::vector<double>& probabilities,
                                        int num_samples = 2000) {
  absl::flat_hash_map<uint64_t, double> probability_of;
  for (size_t i = 0; i < keys.size(); ++i) probability_of[keys[i]] = probabilities[i];
  for (int s = 0; s < num_samples; ++s) {
    auto choice = sampler.Sample();
    ASSERT_TRUE(choice.ok()) << choice.status();
    ASSERT_TRUE(probability_of.contains(choice->key));
    const double expected = probability_of[choice->key];
    ASSERT_TRUE(NearlyEqual(choice->probability, expected, 1e-9))
        << "key " << choice->key << ": " << choice->probability << " vs " << expected;
    ASSERT_EQ(choice->weight, 1.0);
  }
}

TEST(ReturnWeightedSamplerTest, FrequenciesMatchTheSoftmaxOfReturns) {
  const double temperature = 2.0;
  auto sampler = MakeReturnWeighted(temperature, /*seed=*/5);
  std::vector<uint64_t> keys;
  std::vector<double> returns;
  for (int i = 0; i < 20; ++i) {
    keys.push_back(300 + 3 * i);
    returns.push_back(-4.0 + 0.45 * i);
    ASSERT_TRUE(sampler->Insert(keys.back(), returns.back()).ok());
  }
  const auto counts = CountSamples(*sampler, keys, 200000);
  ExpectFits(counts, Softmax(returns, temperature));
  // Power: the counts clearly reject a different temperature.
  const auto wrong = ComputeChiSquare(counts, Softmax(returns, 2 * temperature));
  EXPECT_GT(wrong.statistic, 10 * wrong.critical_value);
}

TEST(ReturnWeightedSamplerTest, ReportsTheTrueProbabilityOfTheChosenKey) {
  const double temperature = 0.7;
  auto sampler = MakeReturnWeighted(temperature);
  std::vector<uint64_t> keys;
  std::vector<double> returns;
  for (int i = 0; i < 30; ++i) {
    keys.push_back(i);
    returns.push_back(std::sin(i) * 3);
    ASSERT_TRUE(sampler->Insert(i, returns.back()).ok());
  }
  ExpectReportedProbabilitiesAreTrue(*sampler, keys, Softmax(returns, temperature));
}

TEST(ReturnWeightedSamplerTest, ReturnsThousandsApartRebaseAndKeepCorrectFrequencies) {
  const double temperature = 1.0;
  auto sampler = MakeReturnWeighted(temperature, /*seed=*/11);
  std::vector<uint64_t> keys;
  std::vector<double> returns;
  // Returns climb by thousands, as over a training run: each step forces the
  // weights onto a new reference.
  for (int i = 0; i < 20; ++i) {
    keys.push_back(i);
    returns.push_back(1000.0 * (i / 4) + 0.8 * (i % 4));
    ASSERT_TRUE(sampler->Insert(i, returns.back()).ok());
  }
  EXPECT_GE(sampler->num_rebases(), 4);
  const std::vector<double> p = Softmax(returns, temperature);
  ExpectReportedProbabilitiesAreTrue(*sampler, keys, p);
  ExpectFits(CountSamples(*sampler, keys, 200000), p);
}

TEST(ReturnWeightedSamplerTest, DeletingTheBestEpisodeRebasesOntoTheRest) {
  const double temperature = 3.0;
  auto sampler = MakeReturnWeighted(temperature, /*seed=*/13);
  ASSERT_TRUE(sampler->Insert(999, 5000.0).ok());
  std::vector<uint64_t> keys;
  std::vector<double> returns;
  for (int i = 0; i < 20; ++i) {
    keys.push_back(i);
    returns.push_back(-2000.0 + 1.5 * i);
    ASSERT_TRUE(sampler->Insert(i, returns.back()).ok());
  }
  // All the mass is on the outlier; the others' weights underflow to zero.
  auto choice = sampler->Sample();
  ASSERT_TRUE(choice.ok());
  EXPECT_EQ(choice->key, 999u);
  EXPECT_EQ(choice->probability, 1.0);

  const int64_t rebases = sampler->num_rebases();
  ASSERT_TRUE(sampler->Delete(999).ok());
  EXPECT_GT(sampler->num_rebases(), rebases);
  const std::vector<double> p = Softmax(returns, temperature);
  ExpectReportedProbabilitiesAreTrue(*sampler, keys, p);
  ExpectFits(CountSamples(*sampler, keys, 200000), p);
}

TEST(ReturnWeightedSamplerTest, ProbabilitiesDoNotDependOnTheReferenceReturn) {
  // The reference is the first return inserted; inserting in opposite orders
  // gives opposite references (the spread stays below the rebase range).
  const double temperature = 1.5;
  std::vector<uint64_t> keys;
  std::vector<double> returns;
  for (int i = 0; i < 25; ++i) {
    keys.push_back(i);
    returns.push_back(10.0 * i);
  }
  auto ascending = MakeReturnWeighted(temperature);
  auto descending = MakeReturnWeighted(temperature);
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(ascending->Insert(keys[i], returns[i]).ok());
    ASSERT_TRUE(descending->Insert(keys[24 - i], returns[24 - i]).ok());
  }
  EXPECT_EQ(ascending->num_rebases(), 0);
  EXPECT_EQ(descending->num_rebases(), 0);
  const std::vector<double> p = Softmax(returns, temperature);
  ExpectReportedProbabilitiesAreTrue(*ascending, keys, p);
  ExpectReportedProbabilitiesAreTrue(*descending, keys, p);
}

TEST(ReturnWeightedSamplerTest, UpdateChangesTheFrequencies) {
  const double temperature = 1.0;
  auto sampler = MakeReturnWeighted(temperature, /*seed=*/17);
  std::vector<uint64_t> keys;
  std::vector<double> returns;
  for (int i = 0; i < 20; ++i) {
    keys.push_back(i);
    returns.push_back(0.2 * i);
    ASSERT_TRUE(sampler->Insert(i, returns.back()).ok());
  }
  returns[0] = 5.0;
  ASSERT_TRUE(sampler->Update(0, returns[0]).ok());
  returns[19] = -300.0;  // far below: weight ~e^-305, never drawn
  ASSERT_TRUE(sampler->Update(19, returns[19]).ok());
  const std::vector<double> p = Softmax(returns, temperature);
  ExpectReportedProbabilitiesAreTrue(*sampler, keys, p);
  const auto counts = CountSamples(*sampler, keys, 200000);
  ExpectFits(counts, p);
  EXPECT_EQ(counts[19], 0);
}

TEST(ReturnWeightedSamplerTest, ExtremeReturnsNeitherOverflowNorProduceNaN) {
  auto sampler = MakeReturnWeighted(/*temperature=*/1e-3);
  ASSERT_TRUE(sampler->Insert(1, -1e300).ok());
  ASSERT_TRUE(sampler->Insert(2, 1e300).ok());
  ASSERT_TRUE(sampler->Insert(3, 0.0).ok());
  for (int s = 0; s < 100; ++s) {
    auto choice = sampler->Sample();
    ASSERT_TRUE(choice.ok());
    EXPECT_EQ(choice->key, 2u);
    EXPECT_EQ(choice->probability, 1.0);
  }
  ASSERT_TRUE(sampler->Delete(2).ok());
  auto choice = sampler->Sample();
  ASSERT_TRUE(choice.ok());
  EXPECT_EQ(choice->key, 3u);
  EXPECT_EQ(choice->probability, 1.0);
}

TEST(ReturnWeightedSamplerTest, NonFiniteReturnsFailWithInvalidArgumentAndChangeNothing) {
  auto sampler = MakeReturnWeighted(1.0);
  ASSERT_TRUE(sampler->Insert(1, 2.0).ok());
  for (double bad : {std::numeric_limits<double>::quiet_NaN(),
                     std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity()}) {
    const absl::Status insert = sampler->Insert(2, bad);
    EXPECT_EQ(insert.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(insert.message(), ::testing::HasSubstr("return must be finite"));
    EXPECT_EQ(sampler->Update(1, bad).code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(sampler->size(), 1);
  auto choice = sampler->Sample();
  ASSERT_TRUE(choice.ok());
  EXPECT_EQ(choice->key, 1u);
  EXPECT_EQ(choice->probability, 1.0);
}

}  // namespace
}  // namespace rlx
