#include "replay/samplers/prioritized.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "replay/samplers/sampler_rng.h"
#include "tests/replay/samplers/sampler_test_util.h"

namespace rlx {
namespace {

using sampler_test::ComputeChiSquare;
using sampler_test::CountSamples;
using sampler_test::ExpectFits;
using sampler_test::NearlyEqual;
using sampler_test::Normalize;

std::unique_ptr<PrioritizedSampler> MakePrioritized(double alpha, double beta, uint64_t seed = 1) {
  PrioritizedSamplerConfig config;
  config.set_priority_exponent(alpha);
  config.set_importance_exponent(beta);
  auto sampler = PrioritizedSampler::Create(config, seed);
  EXPECT_TRUE(sampler.ok()) << sampler.status();
  return sampler.ok() ? std::move(*sampler) : nullptr;
}

// 20 keys with priorities spread over two orders of magnitude.
struct Fixture {
  std::vector<uint64_t> keys;
  std::vector<double> priorities;
};

Fixture TwentyKeys() {
  Fixture f;
  for (int i = 0; i < 20; ++i) {
    f.keys.push_back(500 + 11 * i);
    f.priorities.push_back(0.05 * (i + 1) * (i + 1));
  }
  return f;
}

std::vector<double> PowAll(const std::vector<double>& priorities, double alpha) {
  std::vector<double> weights;
  for (double p : priorities) weights.push_back(p == 0 ? 0.0 : std::pow(p, alpha));
  return weights;
}

TEST(PrioritizedSamplerTest, FrequenciesMatchPrioritiesRaisedToAlpha) {
  const double alpha = 0.7;
  auto sampler = MakePrioritized(alpha, 0.5, /*seed=*/17);
  const Fixture f = TwentyKeys();
  for (size_t i = 0; i < f.keys.size(); ++i) {
    ASSERT_TRUE(sampler->Insert(f.keys[i], f.priorities[i]).ok());
  }
  const auto counts = CountSamples(*sampler, f.keys, 200000);
  ExpectFits(counts, Normalize(PowAll(f.priorities, alpha)));

  // The same counts are clearly rejected against the wrong exponent, so the
  // check has power.
  const auto wrong = ComputeChiSquare(counts, Normalize(PowAll(f.priorities, 1.0)));
  EXPECT_GT(wrong.statistic, 10 * wrong.critical_value);
}

TEST(PrioritizedSamplerTest, ReportsTheProbabilityOfTheChosenKey) {
  const double alpha = 0.7;
  auto sampler = MakePrioritized(alpha, 0.5);
  const Fixture f = TwentyKeys();
  for (size_t i = 0; i < f.keys.size(); ++i) {
    ASSERT_TRUE(sampler->Insert(f.keys[i], f.priorities[i]).ok());
  }
  const std::vector<double> probabilities = Normalize(PowAll(f.priorities, alpha));
  for (int s = 0; s < 2000; ++s) {
    auto choice = sampler->Sample();
    ASSERT_TRUE(choice.ok()) << choice.status();
    const size_t i = (choice->key - 500) / 11;
    ASSERT_TRUE(NearlyEqual(choice->probability, probabilities[i]))
        << choice->probability << " vs " << probabilities[i];
  }
}

TEST(PrioritizedSamplerTest, ImportanceWeightsEqualTheFormula) {
  const double alpha = 0.6;
  const double beta = 0.4;
  auto sampler = MakePrioritized(alpha, beta);
  // Includes zero priorities: they have P = 0 and do not set the max weight.
  const std::vector<double> priorities = {0.0, 0.3, 1.0, 2.5, 0.0, 7.0, 0.01, 4.0};
  for (size_t i = 0; i < priorities.size(); ++i) {
    ASSERT_TRUE(sampler->Insert(i, priorities[i]).ok());
  }
  const std::vector<double> p = Normalize(PowAll(priorities, alpha));
  const double n = static_cast<double>(priorities.size());
  double max_weight = 0;
  for (double pj : p) {
    if (pj > 0) max_weight = std::max(max_weight, std::pow(n * pj, -beta));
  }
  std::vector<bool> seen(priorities.size(), false);
  for (int s = 0; s < 5000; ++s) {
    auto choice = sampler->Sample();
    ASSERT_TRUE(choice.ok()) << choice.status();
    const size_t i = choice->key;
    ASSERT_GT(p[i], 0) << "sampled a zero-priority key";
    seen[i] = true;
    const double expected = std::pow(n * p[i], -beta) / max_weight;
    ASSERT_TRUE(NearlyEqual(choice->weight, expected)) << choice->weight << " vs " << expected;
  }
  EXPECT_TRUE(seen[6]) << "the rarest key (weight 1) was never drawn";
}

TEST(PrioritizedSamplerTest, ImportanceExponentZeroGivesWeightOne) {
  auto sampler = MakePrioritized(1.0, 0.0);
  ASSERT_TRUE(sampler->Insert(1, 1.0).ok());
  ASSERT_TRUE(sampler->Insert(2, 100.0).ok());
  for (int s = 0; s < 100; ++s) {
    auto choice = sampler->Sample();
    ASSERT_TRUE(choice.ok());
    EXPECT_EQ(choice->weight, 1.0);
  }
}

TEST(PrioritizedSamplerTest, UpdateChangesTheFrequencies) {
  const double alpha = 1.0;
  auto sampler = MakePrioritized(alpha, 0.0, /*seed=*/23);
  Fixture f = TwentyKeys();
  for (size_t i = 0; i < f.keys.size(); ++i) {
    ASSERT_TRUE(sampler->Insert(f.keys[i], f.priorities[i]).ok());
  }
  // Reverse the priorities: the rarest key becomes the most frequent.
  std::vector<double> reversed(f.priorities.rbegin(), f.priorities.rend());
  for (size_t i = 0; i < f.keys.size(); ++i) {
    ASSERT_TRUE(sampler->Update(f.keys[i], reversed[i]).ok());
  }
  const auto counts = CountSamples(*sampler, f.keys, 200000);
  ExpectFits(counts, Normalize(PowAll(reversed, alpha)));
  EXPECT_GT(counts.front(), counts.back());
}

TEST(PrioritizedSamplerTest, ZeroPriorityKeysAreNeverSampledWhileAnyIsPositive) {
  auto sampler = MakePrioritized(0.5, 0.5);
  for (uint64_t key = 0; key < 10; ++key) ASSERT_TRUE(sampler->Insert(key, 0.0).ok());
  ASSERT_TRUE(sampler->Insert(10, 2.0).ok());
  ASSERT_TRUE(sampler->Insert(11, 8.0).ok());
  std::vector<uint64_t> keys;
  for (uint64_t key = 0; key < 12; ++key) keys.push_back(key);
  const auto counts = CountSamples(*sampler, keys, 100000);
  std::vector<double> p(12, 0.0);
  p[10] = std::sqrt(2.0) / (std::sqrt(2.0) + std::sqrt(8.0));
  p[11] = 1 - p[10];
  ExpectFits(counts, p);
}

TEST(PrioritizedSamplerTest, AllZeroPrioritiesAreSampledUniformlyWithWeightOne) {
  auto sampler = MakePrioritized(0.6, 0.4, /*seed=*/31);
  std::vector<uint64_t> keys;
  for (uint64_t key = 0; key < 20; ++key) {
    keys.push_back(key);
    ASSERT_TRUE(sampler->Insert(key, key < 10 ? 0.0 : 1.0).ok());
  }
  for (uint64_t key = 10; key < 20; ++key) ASSERT_TRUE(sampler->Update(key, 0.0).ok());
  for (int s = 0; s < 100; ++s) {
    auto choice = sampler->Sample();
    ASSERT_TRUE(choice.ok()) << choice.status();
    EXPECT_DOUBLE_EQ(choice->probability, 1.0 / 20);
    EXPECT_EQ(choice->weight, 1.0);
  }
  ExpectFits(CountSamples(*sampler, keys, 200000), std::vector<double>(20, 1.0 / 20));
}

TEST(PrioritizedSamplerTest, PriorityExponentZeroIsUniformOverPositivePriorities) {
  auto sampler = MakePrioritized(0.0, 1.0, /*seed=*/37);
  std::vector<uint64_t> keys;
  std::vector<double> p;
  for (uint64_t key = 0; key < 12; ++key) {
    keys.push_back(key);
    const double priority = key % 4 == 0 ? 0.0 : static_cast<double>(key * key);
    p.push_back(priority > 0 ? 1.0 : 0.0);
    ASSERT_TRUE(sampler->Insert(key, priority).ok());
  }
  ExpectFits(CountSamples(*sampler, keys, 100000), Normalize(p));
  auto choice = sampler->Sample();
  ASSERT_TRUE(choice.ok());
  EXPECT_DOUBLE_EQ(choice->weight, 1.0);
}

TEST(PrioritizedSamplerTest, BadPrioritiesFailWithInvalidArgumentAndChangeNothing) {
  auto sampler = MakePrioritized(0.6, 0.4);
  ASSERT_TRUE(sampler->Insert(1, 2.0).ok());
  for (double bad : {-1.0, -1e-300, std::numeric_limits<double>::quiet_NaN(),
                     std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity()}) {
    const absl::Status insert = sampler->Insert(2, bad);
    EXPECT_EQ(insert.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(insert.message(), ::testing::HasSubstr("priority must be finite and >= 0, got"));
    const absl::Status update = sampler->Update(1, bad);
    EXPECT_EQ(update.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(update.message(), ::testing::HasSubstr("priority must be finite and >= 0, got"));
  }
  EXPECT_EQ(sampler->size(), 1);
  EXPECT_EQ(sampler->Delete(2).code(), absl::StatusCode::kNotFound);
  auto choice = sampler->Sample();
  ASSERT_TRUE(choice.ok());
  EXPECT_EQ(choice->key, 1u);
}

TEST(PrioritizedSamplerTest, PrioritiesWhoseWeightOverflowsFailWithInvalidArgument) {
  auto sampler = MakePrioritized(2.0, 0.4);
  EXPECT_EQ(sampler->Insert(1, 1e200).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(sampler->Insert(1, 1.2e154).ok());
  // Each weight is finite (1.44e308 and 1e308) but their sum is not.
  EXPECT_EQ(sampler->Insert(2, 1e154).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(sampler->Insert(2, 1.0).ok());
  EXPECT_EQ(sampler->Update(2, 1e154).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sampler->size(), 2);
  // The rejected calls left the probabilities as they were.
  auto choice = sampler->Sample();
  ASSERT_TRUE(choice.ok());
  EXPECT_EQ(choice->key, 1u);
  EXPECT_DOUBLE_EQ(choice->probability, 1.0);
}

TEST(PrioritizedSamplerTest, ProbabilitiesStayExactAfterManyWildUpdates) {
  // Sum trees maintained by adding deltas drift after updates that span many
  // orders of magnitude; recomputing nodes from their children does not.
  auto sampler = MakePrioritized(1.0, 1.0);
  SamplerRng rng(3);
  const int n = 1000;
  for (int key = 0; key < n; ++key) ASSERT_TRUE(sampler->Insert(key, 1.0).ok());
  for (int step = 0; step < 100000; ++step) {
    const double exponent = static_cast<double>(rng.UniformIndex(25)) - 12;
    ASSERT_TRUE(sampler->Update(rng.UniformIndex(n), std::pow(10.0, exponent)).ok());
  }
  for (int key = 0; key < n; ++key) ASSERT_TRUE(sampler->Update(key, 1.0).ok());
  for (int s = 0; s < 1000; ++s) {
    auto choice = sampler->Sample();
    ASSERT_TRUE(choice.ok());
    ASSERT_EQ(choice->probability, 1.0 / n);
    ASSERT_EQ(choice->weight, 1.0);
  }
}

TEST(PrioritizedSamplerTest, KeepsCorrectFrequenciesAfterGrowingAndShrinking) {
  const double alpha = 1.0;
  auto sampler = MakePrioritized(alpha, 0.0, /*seed=*/41);
  for (uint64_t key = 0; key < 5000; ++key) {
    ASSERT_TRUE(sampler->Insert(key, 1.0 + static_cast<double>(key % 13)).ok());
  }
  std::vector<uint64_t> kept;
  std::vector<double> priorities;
  for (uint64_t key = 0; key < 5000; ++key) {
    if (key % 250 == 7) {
      kept.push_back(key);
      priorities.push_back(1.0 + static_cast<double>(key % 13));
    } else {
      ASSERT_TRUE(sampler->Delete(key).ok());
    }
  }
  ASSERT_EQ(sampler->size(), 20);
  ExpectFits(CountSamples(*sampler, kept, 200000), Normalize(PowAll(priorities, alpha)));
}

}  // namespace
}  // namespace rlx
