#include "algorithms/stream_x/normalizer.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "algorithms/stream_x/config.h"
#include "algorithms/stream_x/observation.h"

namespace rlx {
namespace {

TEST(RunningMeanVarTest, VarianceReadsOneUntilTwoSamples) {
  RunningMeanVar stats(2);
  EXPECT_EQ(stats.Variance(0), 1.0);
  const std::vector<float> x = {3.0f, -1.0f};
  stats.Update(x);
  EXPECT_EQ(stats.Variance(0), 1.0);
  EXPECT_EQ(stats.Mean(0), 3.0);
  EXPECT_EQ(stats.Mean(1), -1.0);
}

TEST(RunningMeanVarTest, MatchesDirectMeanAndSampleVariance) {
  const std::vector<std::vector<float>> samples = {
      {1.0f, 10.0f}, {2.0f, -3.0f}, {4.0f, 0.5f}, {-7.0f, 2.0f}, {0.25f, 8.0f}};
  RunningMeanVar stats(2);
  for (size_t n = 0; n < samples.size(); ++n) {
    stats.Update(samples[n]);
    if (n == 0) continue;
    for (int d = 0; d < 2; ++d) {
      double mean = 0;
      for (size_t i = 0; i <= n; ++i) mean += samples[i][d];
      mean /= n + 1;
      double ss = 0;
      for (size_t i = 0; i <= n; ++i) ss += (samples[i][d] - mean) * (samples[i][d] - mean);
      EXPECT_NEAR(stats.Mean(d), mean, 1e-12);
      EXPECT_NEAR(stats.Variance(d), ss / n, 1e-12);  // sample variance, n - 1 = n here
    }
  }
}

TEST(NormalizeObservationTest, SubtractsMeanAndDividesByStd) {
  RunningMeanVar stats(1);
  for (float v : {1.0f, 2.0f, 6.0f}) stats.Update(std::vector<float>{v});
  // mean 3, sample variance ((4 + 1 + 9) / 2) = 7.
  float out = 0;
  const std::vector<float> raw = {6.0f};
  NormalizeObservation(stats, raw, absl::MakeSpan(&out, 1));
  EXPECT_NEAR(out, 3.0 / std::sqrt(7.0 + 1e-8), 1e-6);
}

TEST(ScaleRewardTest, MatchesDirectComputation) {
  const double gamma = 0.9;
  const std::vector<double> rewards = {1.0, 0.5, -2.0, 3.0, 1.0, 1.0};
  const std::vector<bool> dones = {false, false, true, false, false, true};
  RunningMeanVar stats(1);
  double u = 0;
  std::vector<double> us;
  for (size_t t = 0; t < rewards.size(); ++t) {
    const double scaled = ScaleReward(rewards[t], dones[t], gamma, &u, &stats);
    // Direct: u_t = gamma * (1 - done_t) * u_{t-1} + r_t; sample variance of u_0..u_t.
    const double prev = us.empty() ? 0.0 : us.back();
    us.push_back(gamma * (dones[t] ? 0.0 : 1.0) * prev + rewards[t]);
    double var = 1.0;
    if (us.size() >= 2) {
      double mean = 0;
      for (double x : us) mean += x;
      mean /= us.size();
      double ss = 0;
      for (double x : us) ss += (x - mean) * (x - mean);
      var = ss / (us.size() - 1);
    }
    EXPECT_NEAR(u, us.back(), 1e-12);
    EXPECT_NEAR(scaled, rewards[t] / std::sqrt(var + 1e-8), 1e-9) << "t = " << t;
  }
}

TEST(PreprocessObservationTest, AppendsTimeFeatureAfterNormalisation) {
  ProblemSpec problem;
  problem.observation_dim = 2;
  problem.num_actions = 2;
  problem.time_limit = 200;
  StreamConfig config;
  RunningMeanVar stats(2);
  const std::vector<float> raw = {5.0f, -5.0f};
  stats.Update(raw);
  std::vector<float> out(3);
  PreprocessObservation(problem, config, stats, raw, 0, absl::MakeSpan(out));
  EXPECT_FLOAT_EQ(out[0], 0.0f);
  EXPECT_FLOAT_EQ(out[2], -0.5f);
  PreprocessObservation(problem, config, stats, raw, 50, absl::MakeSpan(out));
  EXPECT_FLOAT_EQ(out[2], -0.25f);
  PreprocessObservation(problem, config, stats, raw, 200, absl::MakeSpan(out));
  EXPECT_FLOAT_EQ(out[2], 0.5f);
}

TEST(EpsilonScheduleTest, FallsLinearlyOverTheExplorationFraction) {
  StreamConfig config;
  config.total_steps = 200000;  // duration 20000
  EXPECT_DOUBLE_EQ(EpsilonAt(config, 0), 1.0);
  EXPECT_NEAR(EpsilonAt(config, 10000), 1.0 - 0.99 * 0.5, 1e-12);
  EXPECT_NEAR(EpsilonAt(config, 20000), 0.01, 1e-12);
  EXPECT_DOUBLE_EQ(EpsilonAt(config, 150000), 0.01);
}

}  // namespace
}  // namespace rlx
