#include "algorithms/stream_x/policy_heads.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace rlx {
namespace {

// J(head) = log pi(a) + w * H, evaluated through the stats the functions return.
double CategoricalObjective(std::vector<float> logits, int64_t a, double w) {
  std::vector<float> unused(logits.size());
  const PolicyStats s = CategoricalCotangent(logits, a, w, absl::MakeSpan(unused));
  return s.log_prob + w * s.entropy;
}

double GaussianObjective(std::vector<float> head, const std::vector<float>& a, double w) {
  std::vector<float> unused(head.size());
  const PolicyStats s = GaussianCotangent(head, a, w, absl::MakeSpan(unused));
  return s.log_prob + w * s.entropy;
}

TEST(PolicyHeadsTest, CategoricalCotangentIsTheGradientOfLogProbPlusEntropy) {
  const std::vector<float> logits = {0.3f, -1.2f, 2.0f, 0.0f};
  for (double w : {0.0, 0.01, -0.01, 0.5}) {
    std::vector<float> cot(4);
    CategoricalCotangent(logits, 1, w, absl::MakeSpan(cot));
    for (int k = 0; k < 4; ++k) {
      std::vector<float> plus = logits, minus = logits;
      const float h = 1e-2f;
      plus[k] += h;
      minus[k] -= h;
      const double fd =
          (CategoricalObjective(plus, 1, w) - CategoricalObjective(minus, 1, w)) / (2 * h);
      EXPECT_NEAR(cot[k], fd, 1e-4) << "k " << k << " w " << w;
    }
  }
}

TEST(PolicyHeadsTest, GaussianCotangentIsTheGradientOfLogProbPlusEntropy) {
  const std::vector<float> head = {0.4f, -0.7f, 0.2f, -1.5f};  // mean 2, pre_std 2
  const std::vector<float> action = {1.1f, -0.2f};
  for (double w : {0.0, 0.01, -0.01}) {
    std::vector<float> cot(4);
    GaussianCotangent(head, action, w, absl::MakeSpan(cot));
    for (int k = 0; k < 4; ++k) {
      std::vector<float> plus = head, minus = head;
      const float h = 1e-2f;
      plus[k] += h;
      minus[k] -= h;
      const double fd =
          (GaussianObjective(plus, action, w) - GaussianObjective(minus, action, w)) / (2 * h);
      EXPECT_NEAR(cot[k], fd, 2e-3 * std::max(1.0, std::fabs(fd))) << "k " << k << " w " << w;
    }
  }
}

TEST(PolicyHeadsTest, GaussianLogProbAndEntropyMatchClosedForm) {
  const std::vector<float> head = {0.5f, 0.0f};  // std = softplus(0) = log 2
  const std::vector<float> action = {1.0f};
  std::vector<float> cot(2);
  const PolicyStats s = GaussianCotangent(head, action, 0.0, absl::MakeSpan(cot));
  const double sd = std::log(2.0);
  EXPECT_NEAR(s.log_prob, -0.25 / (2 * sd * sd) - std::log(sd) - 0.5 * std::log(2 * M_PI), 1e-9);
  EXPECT_NEAR(s.entropy, 0.5 * std::log(2 * M_PI * M_E * sd * sd), 1e-9);
}

TEST(PolicyHeadsTest, SamplingFollowsTheProbabilities) {
  Rng rng(3);
  const std::vector<float> logits = {0.0f, std::log(3.0f)};  // p = 0.25, 0.75
  int ones = 0;
  for (int i = 0; i < 20000; ++i) ones += SampleCategorical(logits, &rng) == 1;
  EXPECT_NEAR(ones / 20000.0, 0.75, 0.015);
  EXPECT_EQ(ArgMax(std::vector<float>{1.0f, 3.0f, 3.0f}), 1);  // first maximum
}

}  // namespace
}  // namespace rlx
