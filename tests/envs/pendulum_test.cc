#include "envs/pendulum.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace rlx {
namespace {

using ::testing::HasSubstr;

// Expected values below were computed by hand from the Pendulum equations
// (g = 10, m = 1, l = 1, dt = 0.05, max speed 8,
// reward -(angle_normalize(th)^2 + 0.1 thdot^2 + 0.001 u^2) on the old state),
// independently of the code under test.

constexpr double kPi = 3.14159265358979323846;

TEST(PendulumEnvTest, StepMatchesTheEquations) {
  Pendulum env;
  std::vector<float> obs;
  env.Reset(0, &obs);
  env.SetState({0.5, -0.3});
  StepResult r;
  ASSERT_TRUE(env.Step({1.5f}, &r).ok());
  // thdot' = -0.3 + (15 sin 0.5 + 3 * 1.5) * 0.05; th' = 0.5 + 0.05 thdot'.
  EXPECT_NEAR(env.state().theta_dot, 0.28456915395315224, 1e-12);
  EXPECT_NEAR(env.state().theta, 0.5142284576976576, 1e-12);
  // -(0.25 + 0.1 * 0.09 + 0.001 * 2.25)
  EXPECT_NEAR(r.reward, -0.26125, 1e-12);
  ASSERT_EQ(r.observation.size(), 3u);
  EXPECT_FLOAT_EQ(r.observation[0], 0.8706724746989368f);
  EXPECT_FLOAT_EQ(r.observation[1], 0.4918632348545977f);
  EXPECT_FLOAT_EQ(r.observation[2], 0.28456915395315224f);
  EXPECT_FALSE(r.done());
}

TEST(PendulumEnvTest, RewardNormalisesTheAngleButTheStateIsNotWrapped) {
  Pendulum env;
  std::vector<float> obs;
  env.Reset(0, &obs);
  env.SetState({4.0, 7.9});
  StepResult r;
  ASSERT_TRUE(env.Step({1.5f}, &r).ok());
  // angle_normalize(4) = 4 - 2 pi = -2.2832.
  const double norm = 4.0 - 2 * kPi;
  EXPECT_NEAR(r.reward, -(norm * norm + 0.1 * 7.9 * 7.9 + 0.001 * 2.25), 1e-12);
  EXPECT_NEAR(r.reward, -11.456185146920742, 1e-12);
  EXPECT_NEAR(env.state().theta, 4.3778699064259525, 1e-12);
  EXPECT_NEAR(env.state().theta_dot, 7.557398128519054, 1e-12);

  env.SetState({-4.0, -1.0});
  ASSERT_TRUE(env.Step({-2.f}, &r).ok());
  EXPECT_NEAR(r.reward, -5.31693514692074, 1e-12);
  EXPECT_NEAR(env.state().theta, -4.036619906425953, 1e-12);
  EXPECT_NEAR(env.state().theta_dot, -0.7323981285190538, 1e-12);
}

TEST(PendulumEnvTest, AngularSpeedIsClippedToEight) {
  Pendulum env;
  std::vector<float> obs;
  env.Reset(0, &obs);
  env.SetState({2.0, 7.5});
  StepResult r;
  ASSERT_TRUE(env.Step({2.f}, &r).ok());
  EXPECT_EQ(env.state().theta_dot, 8.0);
  EXPECT_NEAR(env.state().theta, 2.4, 1e-12);
  EXPECT_NEAR(r.reward, -9.629, 1e-12);
  EXPECT_FLOAT_EQ(r.observation[2], 8.f);
}

TEST(PendulumEnvTest, NeverTerminatesAndTruncatesAfterTwoHundredSteps) {
  Pendulum env;
  std::vector<float> obs;
  env.Reset(2, &obs);
  StepResult r;
  for (int i = 0; i < 199; ++i) {
    ASSERT_TRUE(env.Step({static_cast<float>(i % 5) - 2.f}, &r).ok());
    ASSERT_FALSE(r.done()) << "step " << i;
    ASSERT_LE(r.reward, 0.0);
  }
  ASSERT_TRUE(env.Step({0.f}, &r).ok());
  EXPECT_TRUE(r.truncated);
  EXPECT_FALSE(r.terminated);
}

TEST(PendulumEnvTest, TorqueOutsideTwoIsRejectedNotClipped) {
  Pendulum env;
  std::vector<float> obs;
  env.Reset(0, &obs);
  env.SetState({0.5, -0.3});
  StepResult r;
  absl::Status s = env.Step({-2.01f}, &r);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("Pendulum-v1: action[0] = -2.00999999 is below"));
  EXPECT_EQ(env.state().theta, 0.5);
  EXPECT_EQ(env.state().theta_dot, -0.3);
}

TEST(PendulumEnvTest, InitialStateIsUniformOverTheCircleAndSlowSpeeds) {
  Pendulum env;
  std::vector<float> obs;
  double min_th = 0, max_th = 0;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    env.Reset(seed, &obs);
    ASSERT_GE(env.state().theta, -kPi);
    ASSERT_LT(env.state().theta, kPi);
    ASSERT_GE(env.state().theta_dot, -1.0);
    ASSERT_LT(env.state().theta_dot, 1.0);
    EXPECT_FLOAT_EQ(obs[0], static_cast<float>(std::cos(env.state().theta)));
    EXPECT_FLOAT_EQ(obs[1], static_cast<float>(std::sin(env.state().theta)));
    EXPECT_FLOAT_EQ(obs[2], static_cast<float>(env.state().theta_dot));
    min_th = std::min(min_th, env.state().theta);
    max_th = std::max(max_th, env.state().theta);
  }
  EXPECT_LT(min_th, -3.0);
  EXPECT_GT(max_th, 3.0);
}

TEST(PendulumEnvTest, SpecFollowsTheClassicDefinition) {
  Pendulum env;
  EXPECT_EQ(env.spec().name, "Pendulum-v1");
  EXPECT_EQ(env.spec().max_episode_steps, 200);
  EXPECT_EQ(env.spec().action_space.low, std::vector<float>{-2.f});
  EXPECT_EQ(env.spec().action_space.high, std::vector<float>{2.f});
  EXPECT_EQ(env.spec().observation_space.high, (std::vector<float>{1.f, 1.f, 8.f}));
}

}  // namespace
}  // namespace rlx
