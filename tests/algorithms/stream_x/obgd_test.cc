#include "algorithms/stream_x/obgd.h"

#include <vector>

#include "gtest/gtest.h"

namespace rlx {
namespace {

TEST(ObgdTest, BoundsTheStepWhenMExceedsOne) {
  // alpha 1, kappa 2, delta 3: z = g = [0.5, -0.25], ||z||_1 = 0.75,
  // delta_bar = 3, M = 1 * 2 * 3 * 0.75 = 4.5 > 1, step = 1 / 4.5,
  // w += (3 / 4.5) * z = [+1/3, -1/6].
  Obgd obgd(ObgdConfig{/*alpha=*/1.0, /*gamma=*/0.99, /*lambda=*/0.8, /*kappa=*/2.0});
  std::vector<float> w = {1.0f, 2.0f}, z = {0.0f, 0.0f};
  const std::vector<float> g = {0.5f, -0.25f};
  const ObgdStepInfo info = obgd.Step(3.0, g, absl::MakeSpan(z), absl::MakeSpan(w), false);
  EXPECT_DOUBLE_EQ(info.trace_l1, 0.75);
  EXPECT_DOUBLE_EQ(info.bound, 4.5);
  EXPECT_DOUBLE_EQ(info.step_size, 1.0 / 4.5);
  EXPECT_FLOAT_EQ(w[0], 1.0f + 1.0f / 3.0f);
  EXPECT_FLOAT_EQ(w[1], 2.0f - 1.0f / 6.0f);
  EXPECT_FLOAT_EQ(z[0], 0.5f);
  EXPECT_FLOAT_EQ(z[1], -0.25f);
}

TEST(ObgdTest, TakesTheFullStepWhenMIsAtMostOne) {
  // alpha 0.1, kappa 2, delta 0.5: delta_bar = max(0.5, 1) = 1,
  // M = 0.1 * 2 * 1 * 0.75 = 0.15 <= 1, step = alpha = 0.1,
  // w += 0.1 * 0.5 * z = [+0.025, -0.0125].
  Obgd obgd(ObgdConfig{/*alpha=*/0.1, /*gamma=*/0.99, /*lambda=*/0.8, /*kappa=*/2.0});
  std::vector<float> w = {1.0f, 2.0f}, z = {0.0f, 0.0f};
  const std::vector<float> g = {0.5f, -0.25f};
  const ObgdStepInfo info = obgd.Step(0.5, g, absl::MakeSpan(z), absl::MakeSpan(w), false);
  EXPECT_NEAR(info.bound, 0.15, 1e-12);
  EXPECT_DOUBLE_EQ(info.step_size, 0.1);
  EXPECT_FLOAT_EQ(w[0], 1.025f);
  EXPECT_FLOAT_EQ(w[1], 1.9875f);
}

TEST(ObgdTest, DecaysTheTraceByGammaLambdaAndResetsItAfterTheUpdate) {
  Obgd obgd(ObgdConfig{/*alpha=*/0.1, /*gamma=*/0.5, /*lambda=*/0.5, /*kappa=*/1.0});
  std::vector<float> w(20, 0.0f), z(20, 2.0f), g(20, 1.0f);
  // z = 0.25 * 2 + 1 = 1.5 everywhere, ||z||_1 = 30, M = 0.1 * 1 * 1 * 30 = 3,
  // step = 0.1 / 3, w += (0.1 / 3) * 1 * 1.5 = 0.05.
  const ObgdStepInfo info = obgd.Step(1.0, g, absl::MakeSpan(z), absl::MakeSpan(w), false);
  EXPECT_NEAR(info.trace_l1, 30.0, 1e-9);
  for (float v : z) EXPECT_FLOAT_EQ(v, 1.5f);
  for (float v : w) EXPECT_FLOAT_EQ(v, 0.05f);
  // With reset the update still uses the trace, then zeroes it.
  obgd.Step(1.0, g, absl::MakeSpan(z), absl::MakeSpan(w), /*reset_trace=*/true);
  for (float v : z) EXPECT_EQ(v, 0.0f);
  // z was 0.25 * 1.5 + 1 = 1.375, ||z|| = 27.5, M = 2.75, w += (0.1/2.75) * 1.375 = 0.05.
  for (float v : w) EXPECT_FLOAT_EQ(v, 0.1f);
}

}  // namespace
}  // namespace rlx
