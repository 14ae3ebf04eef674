#include "replay/samplers/uniform.h"

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "tests/replay/samplers/sampler_test_util.h"

namespace rlx {
namespace {

using sampler_test::CountSamples;
using sampler_test::ExpectFits;

TEST(UniformSamplerTest, SamplesEveryKeyWithEqualFrequency) {
  UniformSampler sampler(/*seed=*/7);
  std::vector<uint64_t> keys;
  for (uint64_t i = 0; i < 20; ++i) {
    keys.push_back(1000 + 37 * i);
    ASSERT_TRUE(sampler.Insert(keys.back(), /*value=*/static_cast<double>(i)).ok());
  }
  const auto counts = CountSamples(sampler, keys, 200000);
  ExpectFits(counts, std::vector<double>(keys.size(), 1.0 / keys.size()));
}

TEST(UniformSamplerTest, StaysUniformOverTheKeysLeftAfterDeletes) {
  UniformSampler sampler(/*seed=*/8);
  for (uint64_t key = 0; key < 30; ++key) ASSERT_TRUE(sampler.Insert(key, 0).ok());
  std::vector<uint64_t> kept;
  for (uint64_t key = 0; key < 30; ++key) {
    if (key % 3 == 1) {
      ASSERT_TRUE(sampler.Delete(key).ok());
    } else {
      kept.push_back(key);
    }
  }
  const auto counts = CountSamples(sampler, kept, 200000);
  ExpectFits(counts, std::vector<double>(kept.size(), 1.0 / kept.size()));
}

TEST(UniformSamplerTest, ReportsProbabilityOneOverSizeAndWeightOne) {
  UniformSampler sampler(/*seed=*/9);
  for (uint64_t key = 0; key < 8; ++key) ASSERT_TRUE(sampler.Insert(key, 0).ok());
  ASSERT_TRUE(sampler.Delete(3).ok());
  for (int i = 0; i < 100; ++i) {
    auto choice = sampler.Sample();
    ASSERT_TRUE(choice.ok()) << choice.status();
    EXPECT_DOUBLE_EQ(choice->probability, 1.0 / 7);
    EXPECT_EQ(choice->weight, 1.0);
  }
}

TEST(UniformSamplerTest, SampleManyMakesTheChoicesOfRepeatedSample) {
  UniformSampler one(/*seed=*/11), many(/*seed=*/11);
  for (uint64_t key = 0; key < 50; ++key) {
    // Large keys too: they live in the index's hash map, not its vector.
    const uint64_t k = key % 2 ? key : (uint64_t{1} << 40) + key;
    ASSERT_TRUE(one.Insert(k, 0).ok());
    ASSERT_TRUE(many.Insert(k, 0).ok());
  }
  ASSERT_TRUE(one.Delete(7).ok());
  ASSERT_TRUE(many.Delete(7).ok());
  std::vector<SampleChoice> choices = {SampleChoice{123, 1, 1}};  // appended to
  many.SampleMany(300, &choices);
  ASSERT_EQ(choices.size(), 301u);
  EXPECT_EQ(choices[0].key, 123u);
  for (size_t i = 1; i < choices.size(); ++i) {
    auto c = one.Sample();
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(choices[i].key, c->key) << i;
    EXPECT_DOUBLE_EQ(choices[i].probability, 1.0 / 49);
    EXPECT_EQ(choices[i].weight, 1.0);
  }
  UniformSampler empty(/*seed=*/1);
  std::vector<SampleChoice> none;
  empty.SampleMany(5, &none);
  EXPECT_TRUE(none.empty());
}

TEST(UniformSamplerTest, IgnoresValues) {
  UniformSampler sampler(/*seed=*/10);
  EXPECT_TRUE(sampler.Insert(1, -5.0).ok());
  EXPECT_TRUE(sampler.Update(1, 1e300).ok());
  EXPECT_EQ(sampler.size(), 1);
}

}  // namespace
}  // namespace rlx
