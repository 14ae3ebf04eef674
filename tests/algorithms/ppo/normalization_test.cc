// PPO's running statistics: merging per-stream statistics equals the
// statistics of all their samples (what the learner publishes for the
// evaluator), and packing round-trips.
#include "algorithms/ppo/normalization.h"

#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace rlx::ppo {
namespace {

TEST(RunningStatsTest, MergeEqualsTheStatisticsOfAllSamples) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(2.0f, 3.0f);
  RunningStats all(2);
  std::vector<RunningStats> parts(3, RunningStats(2));
  for (int p = 0; p < 3; ++p) {
    for (int i = 0; i < 50 + 40 * p; ++i) {
      const float x[2] = {normal(rng), normal(rng) * (p + 1)};
      parts[p].Update(x);
      all.Update(x);
    }
  }
  const RunningStats merged = RunningStats::Merge(parts);
  // Each part starts with a pseudo-count of 1e-4 (Gymnasium's), so the
  // merge counts 3e-4 where `all` counts 1e-4.
  EXPECT_NEAR(merged.count(), all.count() + 2e-4, 1e-9);
  for (int i = 0; i < 2; ++i) {
    EXPECT_NEAR(merged.mean(i), all.mean(i), 1e-5);
    EXPECT_NEAR(merged.var(i), all.var(i), 1e-4 * all.var(i));
  }
}

TEST(RunningStatsTest, PackRoundTrips) {
  RunningStats s(3);
  const float x[3] = {1, -2, 5};
  const float y[3] = {0.5f, 4, -1};
  s.Update(x);
  s.Update(y);
  RunningStats back(3);
  back.Unpack(s.Pack());
  for (int i = 0; i < 3; ++i) {
    EXPECT_FLOAT_EQ(back.mean(i), s.mean(i));
    EXPECT_FLOAT_EQ(back.var(i), s.var(i));
  }
  EXPECT_FLOAT_EQ(back.count(), s.count());
}

}  // namespace
}  // namespace rlx::ppo
