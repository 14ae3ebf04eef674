#include "envs/cartpole.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace rlx {
namespace {

using ::testing::HasSubstr;

// Expected values below were computed by hand from the CartPole equations
// (gravity 9.8, cart mass 1, pole mass 0.1, half-length 0.5, force 10,
// tau 0.02, explicit Euler), independently of the code under test.

TEST(CartPoleEnvTest, PushRightStepMatchesTheEquations) {
  CartPole env;
  std::vector<float> obs;
  env.Reset(0, &obs);
  env.SetState({0.01, -0.02, 0.03, 0.04});
  StepResult r;
  ASSERT_TRUE(env.Step({1.f}, &r).ok());
  // temp = (10 + 0.05 * 0.04^2 * sin 0.03) / 1.1
  // theta_acc = (9.8 sin 0.03 - cos 0.03 * temp) / (0.5 (4/3 - 0.1 cos^2 0.03 / 1.1))
  // x_acc = temp - 0.05 theta_acc cos 0.03 / 1.1
  EXPECT_NEAR(env.state().x, 0.0096, 1e-12);
  EXPECT_NEAR(env.state().x_dot, 0.17467919574755525, 1e-12);
  EXPECT_NEAR(env.state().theta, 0.0308, 1e-12);
  EXPECT_NEAR(env.state().theta_dot, -0.2430687179600081, 1e-12);
  ASSERT_EQ(r.observation.size(), 4u);
  EXPECT_FLOAT_EQ(r.observation[0], 0.0096f);
  EXPECT_FLOAT_EQ(r.observation[1], 0.17467919574755525f);
  EXPECT_FLOAT_EQ(r.observation[2], 0.0308f);
  EXPECT_FLOAT_EQ(r.observation[3], -0.2430687179600081f);
  EXPECT_EQ(r.reward, 1.0);
  EXPECT_FALSE(r.terminated);
  EXPECT_FALSE(r.truncated);
}

TEST(CartPoleEnvTest, PushLeftStepMatchesTheEquations) {
  CartPole env;
  std::vector<float> obs;
  env.Reset(0, &obs);
  env.SetState({0.01, -0.02, 0.03, 0.04});
  StepResult r;
  ASSERT_TRUE(env.Step({0.f}, &r).ok());
  EXPECT_NEAR(env.state().x, 0.0096, 1e-12);
  EXPECT_NEAR(env.state().x_dot, -0.21553901710278936, 1e-12);
  EXPECT_NEAR(env.state().theta, 0.0308, 1e-12);
  EXPECT_NEAR(env.state().theta_dot, 0.34199522377603914, 1e-12);
}

TEST(CartPoleEnvTest, LeavingTheTrackTerminatesWithRewardOne) {
  CartPole env;
  std::vector<float> obs;
  env.Reset(0, &obs);
  env.SetState({2.39, 0.6, 0.0, 0.0});
  StepResult r;
  ASSERT_TRUE(env.Step({1.f}, &r).ok());
  EXPECT_NEAR(env.state().x, 2.402, 1e-12);
  EXPECT_TRUE(r.terminated);
  EXPECT_FALSE(r.truncated);
  EXPECT_EQ(r.reward, 1.0);
}

TEST(CartPoleEnvTest, TippingPastTwelveDegreesTerminates) {
  CartPole env;
  std::vector<float> obs;
  env.Reset(0, &obs);
  // 12 degrees = 0.2094 rad; theta moves by 0.02 * 0.5 = 0.01.
  env.SetState({0.0, 0.0, -0.2, -0.5});
  StepResult r;
  ASSERT_TRUE(env.Step({0.f}, &r).ok());
  EXPECT_TRUE(r.terminated);

  env.Reset(0, &obs);
  env.SetState({0.0, 0.0, 0.199, 0.0});
  ASSERT_TRUE(env.Step({0.f}, &r).ok());
  EXPECT_FALSE(r.terminated);
}

TEST(CartPoleEnvTest, TruncatesAfterFiveHundredSteps) {
  CartPole env;
  std::vector<float> obs;
  env.Reset(3, &obs);
  StepResult r;
  for (int i = 0; i < 499; ++i) {
    env.SetState({});
    ASSERT_TRUE(env.Step({static_cast<float>(i % 2)}, &r).ok());
    ASSERT_FALSE(r.done()) << "step " << i;
  }
  env.SetState({});
  ASSERT_TRUE(env.Step({0.f}, &r).ok());
  EXPECT_TRUE(r.truncated);
  EXPECT_FALSE(r.terminated);
  EXPECT_EQ(env.elapsed_steps(), 500);
  absl::Status s = env.Step({0.f}, &r);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("call Reset"));
}

TEST(CartPoleEnvTest, TerminalStateOnTheLastStepIsBothTerminatedAndTruncated) {
  CartPole env;
  std::vector<float> obs;
  env.Reset(3, &obs);
  StepResult r;
  for (int i = 0; i < 499; ++i) {
    env.SetState({});
    ASSERT_TRUE(env.Step({0.f}, &r).ok());
  }
  env.SetState({2.39, 0.6, 0.0, 0.0});
  ASSERT_TRUE(env.Step({1.f}, &r).ok());
  EXPECT_TRUE(r.terminated);
  EXPECT_TRUE(r.truncated);
}

TEST(CartPoleEnvTest, InitialStateIsUniformWithinFiveHundredths) {
  CartPole env;
  std::vector<float> obs;
  double max_abs[4] = {0, 0, 0, 0};
  for (uint64_t seed = 0; seed < 200; ++seed) {
    env.Reset(seed, &obs);
    const CartPole::State& s = env.state();
    const double v[4] = {s.x, s.x_dot, s.theta, s.theta_dot};
    for (int k = 0; k < 4; ++k) {
      ASSERT_LT(std::abs(v[k]), 0.05);
      max_abs[k] = std::max(max_abs[k], std::abs(v[k]));
      EXPECT_FLOAT_EQ(obs[k], static_cast<float>(v[k]));
    }
  }
  // Spread over the interval, not stuck near zero.
  for (double m : max_abs) EXPECT_GT(m, 0.04);
}

TEST(CartPoleEnvTest, SpecFollowsTheClassicDefinition) {
  CartPole env;
  const EnvSpec& spec = env.spec();
  EXPECT_EQ(spec.name, "CartPole-v1");
  EXPECT_EQ(spec.max_episode_steps, 500);
  EXPECT_EQ(spec.reward_threshold, 475.0);
  EXPECT_TRUE(spec.action_space.is_discrete());
  EXPECT_EQ(spec.action_space.n, 2);
  EXPECT_EQ(spec.observation_space.flat_size(), 4);
  EXPECT_FLOAT_EQ(spec.observation_space.high[0], 4.8f);
  EXPECT_FLOAT_EQ(spec.observation_space.high[2], 0.41887903f);
  EXPECT_FLOAT_EQ(spec.observation_space.low[2], -0.41887903f);
}

}  // namespace
}  // namespace rlx
