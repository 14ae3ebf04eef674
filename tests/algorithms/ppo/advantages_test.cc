#include "algorithms/ppo/advantages.h"

#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace rlx::ppo {
namespace {

struct Unroll {
  std::vector<float> rewards, values, next_values;
  std::vector<uint8_t> terminated, truncated;
  UnrollView view() const {
    return {rewards, values, next_values, terminated, truncated};
  }
};

// Four steps: a termination at t=1 (a new episode starts at t=2) and a time
// limit at t=3 whose final observation is worth 3.0.
Unroll HandCase() {
  Unroll u;
  u.rewards = {1, 2, 3, 4};
  u.values = {0.5, 1.0, 1.5, 2.0};
  u.next_values = {1.0, 99.0 /*terminal: ignored*/, 2.0, 3.0 /*final observation*/};
  u.terminated = {0, 1, 0, 0};
  u.truncated = {0, 0, 0, 1};
  return u;
}

TEST(GaeTest, MatchesAHandComputationWithTerminationAndTruncation) {
  const Unroll u = HandCase();
  std::vector<float> adv(4), ret(4);
  ComputeGae(u.view(), /*gamma=*/0.9, /*lambda=*/0.8, absl::MakeSpan(adv), absl::MakeSpan(ret));
  // t3 (truncated, bootstraps): 4 + 0.9 * 3.0 - 2.0 = 4.7
  // t2: delta 3 + 0.9 * 2.0 - 1.5 = 3.3; A = 3.3 + 0.72 * 4.7 = 6.684
  // t1 (terminated): 2 - 1.0 = 1.0
  // t0: delta 1 + 0.9 * 1.0 - 0.5 = 1.4; A = 1.4 + 0.72 * 1.0 = 2.12
  const std::vector<float> expected_adv = {2.12f, 1.0f, 6.684f, 4.7f};
  for (int t = 0; t < 4; ++t) {
    EXPECT_NEAR(adv[t], expected_adv[t], 1e-5) << t;
    EXPECT_NEAR(ret[t], expected_adv[t] + u.values[t], 1e-5) << t;
  }
}

TEST(GaeTest, LambdaZeroIsTheOneStepTdError) {
  const Unroll u = HandCase();
  std::vector<float> adv(4), ret(4);
  ComputeGae(u.view(), 0.9, 0.0, absl::MakeSpan(adv), absl::MakeSpan(ret));
  EXPECT_NEAR(adv[0], 1.4, 1e-6);
  EXPECT_NEAR(adv[2], 3.3, 1e-6);
}

// IMPALA's definition, summed directly (no recursion) within one episode
// segment [begin, end): v_s = V(x_s) + sum_{t=s}^{end-1} gamma^{t-s}
// (prod_{i=s}^{t-1} c_i) delta_t.
void DirectVTrace(const Unroll& u, const std::vector<float>& log_rhos, const VTraceOptions& o,
                  size_t begin, size_t end, std::vector<double>* vs, std::vector<double>* pg) {
  auto rho = [&](size_t t) { return std::min(o.rho_bar, std::exp(double{log_rhos[t]})); };
  auto c = [&](size_t t) { return o.lambda * std::min(o.c_bar, std::exp(double{log_rhos[t]})); };
  auto delta = [&](size_t t) {
    const double next = u.terminated[t] ? 0.0 : o.gamma * u.next_values[t];
    return rho(t) * (u.rewards[t] + next - u.values[t]);
  };
  for (size_t s = begin; s < end; ++s) {
    double sum = 0, coef = 1;
    for (size_t t = s; t < end; ++t) {
      sum += coef * delta(t);
      coef *= o.gamma * c(t);
    }
    (*vs)[s] = u.values[s] + sum;
  }
  for (size_t s = begin; s < end; ++s) {
    const double next_v = s + 1 < end ? (*vs)[s + 1] : u.next_values[s];
    const double next = u.terminated[s] ? 0.0 : o.gamma * next_v;
    (*pg)[s] = rho(s) * (u.rewards[s] + next - u.values[s]);
  }
}

Unroll RandomUnroll(size_t n, std::mt19937* rng) {
  std::normal_distribution<float> normal;
  Unroll u;
  for (size_t t = 0; t < n; ++t) {
    u.rewards.push_back(normal(*rng));
    u.values.push_back(normal(*rng));
    u.terminated.push_back(0);
    u.truncated.push_back(0);
  }
  for (size_t t = 0; t + 1 < n; ++t) u.next_values.push_back(u.values[t + 1]);
  u.next_values.push_back(normal(*rng));  // bootstrap V(x_T)
  return u;
}

TEST(VTraceTest, MatchesTheDirectImpalaFormulasOnAHandMadeCase) {
  std::mt19937 rng(5);
  Unroll u = RandomUnroll(6, &rng);
  const std::vector<float> log_rhos = {-0.5f, 0.3f, 1.2f, -2.0f, 0.0f, 0.7f};
  VTraceOptions o;
  o.gamma = 0.95;
  o.lambda = 0.9;
  o.rho_bar = 1.0;
  o.c_bar = 1.0;
  std::vector<float> vs(6), pg(6);
  ComputeVTrace(u.view(), log_rhos, o, absl::MakeSpan(vs), absl::MakeSpan(pg));
  std::vector<double> dvs(6), dpg(6);
  DirectVTrace(u, log_rhos, o, 0, 6, &dvs, &dpg);
  for (int t = 0; t < 6; ++t) {
    EXPECT_NEAR(vs[t], dvs[t], 1e-5) << t;
    EXPECT_NEAR(pg[t], dpg[t], 1e-5) << t;
  }
}

TEST(VTraceTest, EpisodeEndsCutTheTraceAndTruncationBootstraps) {
  std::mt19937 rng(9);
  Unroll u = RandomUnroll(7, &rng);
  u.terminated[2] = 1;      // episode 1 = [0, 3)
  u.truncated[4] = 1;       // episode 2 = [3, 5), cut by a time limit
  u.next_values[4] = 1.5f;  // the final observation's value
  const std::vector<float> log_rhos = {0.2f, -0.1f, 0.4f, -1.0f, 0.5f, 0.1f, -0.3f};
  VTraceOptions o;
  o.gamma = 0.9;
  std::vector<float> vs(7), pg(7);
  ComputeVTrace(u.view(), log_rhos, o, absl::MakeSpan(vs), absl::MakeSpan(pg));
  std::vector<double> dvs(7), dpg(7);
  DirectVTrace(u, log_rhos, o, 0, 3, &dvs, &dpg);
  DirectVTrace(u, log_rhos, o, 3, 5, &dvs, &dpg);
  DirectVTrace(u, log_rhos, o, 5, 7, &dvs, &dpg);
  for (int t = 0; t < 7; ++t) {
    EXPECT_NEAR(vs[t], dvs[t], 1e-5) << t;
    EXPECT_NEAR(pg[t], dpg[t], 1e-5) << t;
  }
}

TEST(VTraceTest, OnPolicyTargetsAreTheBootstrappedNStepReturns) {
  std::mt19937 rng(3);
  Unroll u = RandomUnroll(8, &rng);
  u.terminated[3] = 1;
  const std::vector<float> log_rhos(8, 0.0f);  // behaviour = target policy
  VTraceOptions o;
  o.gamma = 0.97;
  std::vector<float> vs(8), pg(8);
  ComputeVTrace(u.view(), log_rhos, o, absl::MakeSpan(vs), absl::MakeSpan(pg));
  // n-step returns to the episode end (0 after a termination) or to the
  // unroll's end (bootstrapped with V(x_T)).
  for (int s = 0; s < 8; ++s) {
    double g = 0, discount = 1;
    int t = s;
    for (; t < 8; ++t) {
      g += discount * u.rewards[t];
      discount *= o.gamma;
      if (u.terminated[t]) break;
    }
    if (t == 8) g += discount * u.next_values[7];
    EXPECT_NEAR(vs[s], g, 1e-4) << s;
  }
  // ... which is GAE with lambda = 1.
  std::vector<float> adv(8), ret(8);
  ComputeGae(u.view(), o.gamma, 1.0, absl::MakeSpan(adv), absl::MakeSpan(ret));
  for (int s = 0; s < 8; ++s) EXPECT_NEAR(vs[s], ret[s], 1e-4) << s;
}

TEST(VTraceTest, LargeImportanceWeightsAreClipped) {
  std::mt19937 rng(1);
  Unroll u = RandomUnroll(3, &rng);
  std::vector<float> vs_clipped(3), pg_clipped(3), vs_one(3), pg_one(3);
  ComputeVTrace(u.view(), {5.0f, 5.0f, 5.0f}, VTraceOptions(), absl::MakeSpan(vs_clipped),
                absl::MakeSpan(pg_clipped));
  ComputeVTrace(u.view(), {0.0f, 0.0f, 0.0f}, VTraceOptions(), absl::MakeSpan(vs_one),
                absl::MakeSpan(pg_one));
  for (int t = 0; t < 3; ++t) {
    EXPECT_FLOAT_EQ(vs_clipped[t], vs_one[t]);
    EXPECT_FLOAT_EQ(pg_clipped[t], pg_one[t]);
  }
}

}  // namespace
}  // namespace rlx::ppo
