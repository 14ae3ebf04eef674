#include <algorithm>
#include <cstdint>
#include <deque>

#include <gtest/gtest.h>

#include "replay/samplers/fifo.h"
#include "replay/samplers/lifo.h"
#include "replay/samplers/sampler_rng.h"

namespace rlx {
namespace {

uint64_t SampleKey(Sampler& sampler) {
  auto choice = sampler.Sample();
  EXPECT_TRUE(choice.ok()) << choice.status();
  if (!choice.ok()) return ~uint64_t{0};
  EXPECT_EQ(choice->probability, 1.0);
  EXPECT_EQ(choice->weight, 1.0);
  return choice->key;
}

TEST(FifoSamplerTest, SamplesTheOldestKeyAsKeysComeAndGo) {
  FifoSampler sampler;
  ASSERT_TRUE(sampler.Insert(1, 0).ok());
  ASSERT_TRUE(sampler.Insert(2, 0).ok());
  ASSERT_TRUE(sampler.Insert(3, 0).ok());
  EXPECT_EQ(SampleKey(sampler), 1u);
  EXPECT_EQ(SampleKey(sampler), 1u) << "sampling must not remove the key";
  ASSERT_TRUE(sampler.Delete(1).ok());
  EXPECT_EQ(SampleKey(sampler), 2u);
  ASSERT_TRUE(sampler.Insert(4, 0).ok());
  ASSERT_TRUE(sampler.Delete(3).ok());
  EXPECT_EQ(SampleKey(sampler), 2u);
  ASSERT_TRUE(sampler.Delete(2).ok());
  EXPECT_EQ(SampleKey(sampler), 4u);
}

TEST(LifoSamplerTest, SamplesTheNewestKeyAsKeysComeAndGo) {
  LifoSampler sampler;
  ASSERT_TRUE(sampler.Insert(1, 0).ok());
  ASSERT_TRUE(sampler.Insert(2, 0).ok());
  ASSERT_TRUE(sampler.Insert(3, 0).ok());
  EXPECT_EQ(SampleKey(sampler), 3u);
  EXPECT_EQ(SampleKey(sampler), 3u) << "sampling must not remove the key";
  ASSERT_TRUE(sampler.Delete(3).ok());
  EXPECT_EQ(SampleKey(sampler), 2u);
  ASSERT_TRUE(sampler.Insert(4, 0).ok());
  EXPECT_EQ(SampleKey(sampler), 4u);
  ASSERT_TRUE(sampler.Delete(2).ok());
  ASSERT_TRUE(sampler.Delete(4).ok());
  EXPECT_EQ(SampleKey(sampler), 1u);
}

// Many removals in the middle (compaction of the stale order entries), keys
// reused after removal (as the Table reuses slot numbers), and large keys.
TEST(FifoSamplerTest, KeepsOrderThroughMiddleRemovalsAndReusedKeys) {
  FifoSampler fifo;
  LifoSampler lifo;
  std::deque<uint64_t> model;  // present keys, oldest first
  auto insert = [&](uint64_t key) {
    ASSERT_TRUE(fifo.Insert(key, 0).ok());
    ASSERT_TRUE(lifo.Insert(key, 0).ok());
    model.push_back(key);
  };
  auto remove = [&](uint64_t key) {
    ASSERT_TRUE(fifo.Delete(key).ok());
    ASSERT_TRUE(lifo.Delete(key).ok());
    model.erase(std::find(model.begin(), model.end(), key));
  };
  for (uint64_t k = 0; k < 5000; ++k) insert(k % 7 ? k : (uint64_t{1} << 50) + k);
  for (uint64_t k = 1; k < 4999; ++k) {
    if (k % 100 != 0 && k % 7 != 0) remove(k);
  }
  EXPECT_EQ(fifo.size(), static_cast<int64_t>(model.size()));
  EXPECT_EQ(SampleKey(fifo), model.front());
  EXPECT_EQ(SampleKey(lifo), model.back());
  // Reuse removed keys: they go to the back.
  insert(5);
  insert(6);
  EXPECT_EQ(SampleKey(lifo), 6u);
  EXPECT_EQ(fifo.Insert(5, 0).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(fifo.Delete(4).code(), absl::StatusCode::kNotFound);
  while (!model.empty()) {
    ASSERT_EQ(SampleKey(fifo), model.front());
    ASSERT_EQ(SampleKey(lifo), model.back());
    remove(model.front());
  }
  EXPECT_EQ(fifo.size(), 0);
  EXPECT_FALSE(fifo.Sample().ok());
}

TEST(FifoSamplerTest, UpdateDoesNotMoveAKeyButReinsertingDoes) {
  FifoSampler sampler;
  ASSERT_TRUE(sampler.Insert(1, 0).ok());
  ASSERT_TRUE(sampler.Insert(2, 0).ok());
  ASSERT_TRUE(sampler.Update(1, 5.0).ok());
  EXPECT_EQ(SampleKey(sampler), 1u);
  ASSERT_TRUE(sampler.Delete(1).ok());
  ASSERT_TRUE(sampler.Insert(1, 0).ok());
  EXPECT_EQ(SampleKey(sampler), 2u);
}

TEST(LifoSamplerTest, UpdateDoesNotMoveAKeyButReinsertingDoes) {
  LifoSampler sampler;
  ASSERT_TRUE(sampler.Insert(1, 0).ok());
  ASSERT_TRUE(sampler.Insert(2, 0).ok());
  ASSERT_TRUE(sampler.Update(1, 5.0).ok());
  EXPECT_EQ(SampleKey(sampler), 2u);
  ASSERT_TRUE(sampler.Delete(1).ok());
  ASSERT_TRUE(sampler.Insert(1, 0).ok());
  EXPECT_EQ(SampleKey(sampler), 1u);
}

// Random interleaved inserts and deletes (of the oldest, newest or a middle
// key), checked against a deque of keys in insertion order.
template <typename SamplerT>
void CheckAgainstModel(bool newest) {
  SamplerT sampler;
  SamplerRng rng(5);
  std::deque<uint64_t> model;
  uint64_t next_key = 100;
  for (int step = 0; step < 20000; ++step) {
    if (model.empty() || rng.UniformIndex(2) == 0) {
      ASSERT_TRUE(sampler.Insert(next_key, 0).ok());
      model.push_back(next_key++);
    } else {
      const auto position = model.begin() + rng.UniformIndex(model.size());
      ASSERT_TRUE(sampler.Delete(*position).ok());
      model.erase(position);
    }
    ASSERT_EQ(sampler.size(), static_cast<int64_t>(model.size()));
    if (model.empty()) {
      ASSERT_EQ(sampler.Sample().status().code(), absl::StatusCode::kFailedPrecondition);
    } else {
      ASSERT_EQ(SampleKey(sampler), newest ? model.back() : model.front()) << "step " << step;
    }
  }
}

TEST(FifoSamplerTest, MatchesAQueueUnderRandomInsertsAndDeletes) {
  CheckAgainstModel<FifoSampler>(/*newest=*/false);
}

TEST(LifoSamplerTest, MatchesAStackUnderRandomInsertsAndDeletes) {
  CheckAgainstModel<LifoSampler>(/*newest=*/true);
}

}  // namespace
}  // namespace rlx
