// LowestPrioritySampler (a remover's selector) and CreateRemover.
#include "replay/samplers/lowest_priority.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "replay/samplers/interface.h"
#include "replay/samplers/sampler_rng.h"

namespace rlx {
namespace {

TEST(LowestPrioritySamplerTest, ChoosesTheLowestValueAndTheOldestAmongEquals) {
  LowestPrioritySampler s;
  ASSERT_TRUE(s.Insert(10, 5.0).ok());
  ASSERT_TRUE(s.Insert(11, 2.0).ok());
  ASSERT_TRUE(s.Insert(12, 2.0).ok());
  ASSERT_TRUE(s.Insert(13, 7.0).ok());
  auto c = s.Sample();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->key, 11u);  // 2.0, inserted before 12
  EXPECT_EQ(c->probability, 1.0);
  EXPECT_EQ(c->weight, 1.0);
  ASSERT_TRUE(s.Delete(11).ok());
  EXPECT_EQ(s.Sample()->key, 12u);
  ASSERT_TRUE(s.Update(13, 1.0).ok());  // moves to the top
  EXPECT_EQ(s.Sample()->key, 13u);
  ASSERT_TRUE(s.Update(13, 9.0).ok());  // and back down
  EXPECT_EQ(s.Sample()->key, 12u);
  EXPECT_EQ(s.size(), 3);
}

TEST(LowestPrioritySamplerTest, MatchesABruteForceMinimumUnderRandomOperations) {
  LowestPrioritySampler s;
  // key -> (value, insertion sequence)
  std::map<uint64_t, std::pair<double, int64_t>> present;
  SamplerRng rng(7);
  int64_t seq = 0;
  for (int step = 0; step < 20000; ++step) {
    const uint64_t key = rng.UniformIndex(300);
    const double value = static_cast<double>(rng.UniformIndex(20));
    switch (rng.UniformIndex(3)) {
      case 0:
        if (s.Insert(key, value).ok()) present[key] = {value, seq++};
        break;
      case 1:
        if (s.Update(key, value).ok()) present[key].first = value;
        break;
      default:
        if (s.Delete(key).ok()) present.erase(key);
        break;
    }
    ASSERT_EQ(s.size(), static_cast<int64_t>(present.size()));
    if (present.empty()) {
      ASSERT_EQ(s.Sample().status().code(), absl::StatusCode::kFailedPrecondition);
      continue;
    }
    uint64_t want = 0;
    std::pair<double, int64_t> best{std::numeric_limits<double>::infinity(), 0};
    for (const auto& [k, v] : present) {
      if (v < best) {
        best = v;
        want = k;
      }
    }
    auto got = s.Sample();
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got->key, want) << "step " << step;
  }
}

TEST(LowestPrioritySamplerTest, RejectsNonFiniteValuesAndBadKeys) {
  LowestPrioritySampler s;
  EXPECT_EQ(s.Insert(1, std::nan("")).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.size(), 0);
  ASSERT_TRUE(s.Insert(1, 1.0).ok());
  EXPECT_EQ(s.Insert(1, 2.0).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(s.Update(1, std::numeric_limits<double>::infinity()).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.Update(2, 1.0).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.Delete(2).code(), absl::StatusCode::kNotFound);
  s.Clear();
  EXPECT_EQ(s.size(), 0);
  EXPECT_TRUE(s.Insert(1, 1.0).ok());
}

TEST(CreateRemoverTest, BuildsEveryKindAndFifoWhenUnset) {
  // Keys 1, 2, 3 inserted with values 3, 1, 2: which each kind chooses.
  RemoverConfig fifo, lifo, lowest, unset;
  fifo.mutable_fifo();
  lifo.mutable_lifo();
  lowest.mutable_lowest_priority();
  for (const auto& [config, expected] :
       std::vector<std::pair<RemoverConfig, uint64_t>>{
           {unset, 1}, {fifo, 1}, {lifo, 3}, {lowest, 2}}) {
    auto r = CreateRemover(config, 1);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE((*r)->Insert(1, 3.0).ok());
    ASSERT_TRUE((*r)->Insert(2, 1.0).ok());
    ASSERT_TRUE((*r)->Insert(3, 2.0).ok());
    EXPECT_EQ((*r)->Sample()->key, expected) << config.DebugString();
  }
  RemoverConfig uniform;
  uniform.mutable_uniform();
  auto r = CreateRemover(uniform, 1);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE((*r)->Insert(1, 1.0).ok());
  EXPECT_EQ((*r)->Sample()->key, 1u);
}

}  // namespace
}  // namespace rlx
