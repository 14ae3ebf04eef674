#include "models/dense_mlp.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace rlx {
namespace {

TEST(DenseMlpTest, OrthogonalInitGivesOrthogonalRowsTimesGainAndZeroBiases) {
  DenseMlpSpec spec{4, {64, 64}, 2};
  DenseMlp net(spec);
  net.OrthogonalInitialize(std::sqrt(2.0), 0.01, 7);
  // Layer 0 is 64 x 4: its 4 columns are orthonormal times sqrt(2).
  const float* w = net.params().data();
  for (int a = 0; a < 4; ++a) {
    for (int b = 0; b < 4; ++b) {
      double dot = 0;
      for (int r = 0; r < 64; ++r) dot += double{w[r * 4 + a]} * w[r * 4 + b];
      EXPECT_NEAR(dot, a == b ? 2.0 : 0.0, 1e-4) << a << "," << b;
    }
  }
  // Layer 1 (64 x 64) starts after W0 and b0; its bias follows it.
  const float* b0 = w + 64 * 4;
  for (int i = 0; i < 64; ++i) EXPECT_EQ(b0[i], 0.0f);
  // The output layer (2 x 64): orthonormal rows times 0.01.
  const float* w2 = w + 64 * 4 + 64 + 64 * 64 + 64;
  double n0 = 0, cross = 0;
  for (int c = 0; c < 64; ++c) {
    n0 += double{w2[c]} * w2[c];
    cross += double{w2[c]} * w2[64 + c];
  }
  EXPECT_NEAR(n0, 1e-4, 1e-8);
  EXPECT_NEAR(cross, 0.0, 1e-8);
}

TEST(DenseMlpTest, BackwardMatchesFiniteDifferencesForParametersAndInputs) {
  DenseMlpSpec spec{3, {5, 4}, 2};
  DenseMlp net(spec);
  net.OrthogonalInitialize(1.0, 1.0, 3);
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  for (float& p : net.params()) p += 0.1f * normal(rng);  // non-zero biases too
  const int64_t batch = 3;
  std::vector<float> x(batch * 3), cot(batch * 2);
  for (float& v : x) v = normal(rng);
  for (float& v : cot) v = normal(rng);
  auto loss = [&](const DenseMlp& n, const std::vector<float>& input) {
    DenseMlpCache c;
    auto out = n.Forward(input.data(), batch, &c);
    double s = 0;
    for (size_t i = 0; i < out.size(); ++i) s += double{out[i]} * cot[i];
    return s;
  };
  DenseMlpCache cache;
  net.Forward(x.data(), batch, &cache);
  std::vector<float> grad(net.num_params(), 0.0f), grad_x(batch * 3);
  net.Backward(&cache, cot.data(), grad.data(), grad_x.data());
  const double h = 1e-3;
  for (int64_t i = 0; i < net.num_params(); ++i) {
    const float saved = net.params()[i];
    net.params()[i] = saved + h;
    const double up = loss(net, x);
    net.params()[i] = saved - h;
    const double down = loss(net, x);
    net.params()[i] = saved;
    EXPECT_NEAR(grad[i], (up - down) / (2 * h), 2e-3) << "param " << i;
  }
  for (size_t i = 0; i < x.size(); ++i) {
    std::vector<float> xp = x, xm = x;
    xp[i] += h;
    xm[i] -= h;
    EXPECT_NEAR(grad_x[i], (loss(net, xp) - loss(net, xm)) / (2 * h), 2e-3) << "input " << i;
  }
  // Backward adds: a second pass doubles the gradient.
  std::vector<float> twice = grad;
  net.Forward(x.data(), batch, &cache);
  net.Backward(&cache, cot.data(), twice.data());
  for (int64_t i = 0; i < net.num_params(); ++i) EXPECT_NEAR(twice[i], 2 * grad[i], 1e-5);
}

TEST(DenseMlpTest, BatchedForwardEqualsOneRowAtATime) {
  DenseMlpSpec spec{4, {64, 64}, 3};
  DenseMlp net(spec);
  net.OrthogonalInitialize(std::sqrt(2.0), 1.0, 11);
  std::mt19937 rng(2);
  std::normal_distribution<float> normal;
  std::vector<float> x(8 * 4);
  for (float& v : x) v = normal(rng);
  DenseMlpCache all;
  const absl::Span<const float> out_all = net.Forward(x.data(), 8, &all);
  const std::vector<float> batched(out_all.begin(), out_all.end());
  for (int r = 0; r < 8; ++r) {
    DenseMlpCache one;
    auto out = net.Forward(&x[r * 4], 1, &one);
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(out[c], batched[r * 3 + c], 1e-5);
  }
}

TEST(DenseMlpTest, TanhApproxIsWithinFloatPrecisionOfStdTanh) {
  double worst = 0;
  for (double x = -20; x <= 20; x += 1e-3) {
    worst = std::max(worst, std::abs(double{TanhApprox(static_cast<float>(x))} - std::tanh(x)));
  }
  EXPECT_LT(worst, 4e-7);
  EXPECT_EQ(TanhApprox(0.0f), 0.0f);
  EXPECT_EQ(TanhApprox(100.0f), -TanhApprox(-100.0f));
}

TEST(DenseMlpTest, RejectsEmptyDimensions) {
  EXPECT_FALSE(ValidateDenseMlpSpec({0, {64}, 2}).ok());
  EXPECT_FALSE(ValidateDenseMlpSpec({4, {0}, 2}).ok());
  EXPECT_TRUE(ValidateDenseMlpSpec({4, {}, 2}).ok());
}

}  // namespace
}  // namespace rlx
