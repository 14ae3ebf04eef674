#include "envs/mountain_car.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "envs/mountain_car_continuous.h"

namespace rlx {
namespace {

using ::testing::HasSubstr;

// Expected values below were computed by hand from the MountainCar equations
// (force 0.001 or power 0.0015, gravity 0.0025, speed limit 0.07, position in
// [-1.2, 0.6]), independently of the code under test.

TEST(MountainCarEnvTest, AccelerateRightStepMatchesTheEquations) {
  MountainCar env;
  std::vector<float> obs;
  env.Reset(0, &obs);
  env.SetState({-0.5, 0.01});
  StepResult r;
  ASSERT_TRUE(env.Step({2.f}, &r).ok());
  // v = 0.01 + 0.001 - 0.0025 cos(-1.5); p = -0.5 + v.
  EXPECT_NEAR(env.state().velocity, 0.010823156995830743, 1e-15);
  EXPECT_NEAR(env.state().position, -0.48917684300416925, 1e-15);
  ASSERT_EQ(r.observation.size(), 2u);
  EXPECT_FLOAT_EQ(r.observation[0], -0.48917684300416925f);
  EXPECT_FLOAT_EQ(r.observation[1], 0.010823156995830743f);
  EXPECT_EQ(r.reward, -1.0);
  EXPECT_FALSE(r.done());
}

TEST(MountainCarEnvTest, AccelerateLeftStepMatchesTheEquations) {
  MountainCar env;
  std::vector<float> obs;
  env.Reset(0, &obs);
  env.SetState({-0.5, 0.01});
  StepResult r;
  ASSERT_TRUE(env.Step({0.f}, &r).ok());
  EXPECT_NEAR(env.state().velocity, 0.008823156995830743, 1e-15);
  EXPECT_NEAR(env.state().position, -0.49117684300416925, 1e-15);
}

TEST(MountainCarEnvTest, LeftWallStopsTheCar) {
  MountainCar env;
  std::vector<float> obs;
  env.Reset(0, &obs);
  env.SetState({-1.19, -0.02});
  StepResult r;
  ASSERT_TRUE(env.Step({0.f}, &r).ok());
  EXPECT_EQ(env.state().position, -1.2);
  EXPECT_EQ(env.state().velocity, 0.0);
}

TEST(MountainCarEnvTest, SpeedIsLimited) {
  MountainCar env;
  std::vector<float> obs;
  env.Reset(0, &obs);
  // 0.0699 + 0.001 - 0.0025 cos(-1.5) = 0.07072 > 0.07.
  env.SetState({-0.5, 0.0699});
  StepResult r;
  ASSERT_TRUE(env.Step({2.f}, &r).ok());
  EXPECT_EQ(env.state().velocity, 0.07);
  EXPECT_NEAR(env.state().position, -0.43, 1e-15);
}

TEST(MountainCarEnvTest, ReachingTheFlagTerminatesWithRewardMinusOne) {
  MountainCar env;
  std::vector<float> obs;
  env.Reset(0, &obs);
  env.SetState({0.49, 0.02});
  StepResult r;
  ASSERT_TRUE(env.Step({2.f}, &r).ok());
  EXPECT_NEAR(env.state().position, 0.5107484356665326, 1e-15);
  EXPECT_NEAR(env.state().velocity, 0.020748435666532672, 1e-15);
  EXPECT_TRUE(r.terminated);
  EXPECT_EQ(r.reward, -1.0);
}

TEST(MountainCarEnvTest, PastTheFlagButMovingBackDoesNotTerminate) {
  MountainCar env;
  std::vector<float> obs;
  env.Reset(0, &obs);
  env.SetState({0.55, -0.002});
  StepResult r;
  ASSERT_TRUE(env.Step({1.f}, &r).ok());
  ASSERT_GE(env.state().position, 0.5);
  ASSERT_LT(env.state().velocity, 0.0);
  EXPECT_FALSE(r.terminated);
}

TEST(MountainCarEnvTest, CoastingTruncatesAfterTwoHundredSteps) {
  MountainCar env;
  std::vector<float> obs;
  env.Reset(9, &obs);
  StepResult r;
  double total = 0;
  for (int i = 0; i < 200; ++i) {
    ASSERT_FALSE(r.done());
    ASSERT_TRUE(env.Step({1.f}, &r).ok());
    total += r.reward;
  }
  EXPECT_TRUE(r.truncated);
  EXPECT_FALSE(r.terminated);
  EXPECT_EQ(total, -200.0);
}

TEST(MountainCarEnvTest, InitialStateIsUniformInTheValleyAtRest) {
  MountainCar env;
  std::vector<float> obs;
  double lo = 0, hi = -1;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    env.Reset(seed, &obs);
    ASSERT_GE(env.state().position, -0.6);
    ASSERT_LT(env.state().position, -0.4);
    ASSERT_EQ(env.state().velocity, 0.0);
    lo = std::min(lo, env.state().position);
    hi = std::max(hi, env.state().position);
  }
  EXPECT_LT(lo, -0.58);
  EXPECT_GT(hi, -0.42);
}

TEST(MountainCarEnvTest, SpecFollowsTheClassicDefinition) {
  MountainCar env;
  EXPECT_EQ(env.spec().name, "MountainCar-v0");
  EXPECT_EQ(env.spec().max_episode_steps, 200);
  EXPECT_EQ(env.spec().reward_threshold, -110.0);
  EXPECT_EQ(env.spec().action_space.n, 3);
  EXPECT_FLOAT_EQ(env.spec().observation_space.low[0], -1.2f);
  EXPECT_FLOAT_EQ(env.spec().observation_space.high[1], 0.07f);
}

TEST(MountainCarContinuousEnvTest, StepMatchesTheEquationsAndCostsTheSquaredForce) {
  MountainCarContinuous env;
  std::vector<float> obs;
  env.Reset(0, &obs);
  env.SetState({-0.5, 0.01});
  StepResult r;
  ASSERT_TRUE(env.Step({0.5f}, &r).ok());
  // v = 0.01 + 0.5 * 0.0015 - 0.0025 cos(-1.5); reward = -0.1 * 0.5^2.
  EXPECT_NEAR(env.state().velocity, 0.010573156995830743, 1e-15);
  EXPECT_NEAR(env.state().position, -0.4894268430041693, 1e-15);
  EXPECT_NEAR(r.reward, -0.025, 1e-15);
  EXPECT_FALSE(r.done());
}

TEST(MountainCarContinuousEnvTest, ReachingTheFlagEarnsOneHundred) {
  MountainCarContinuous env;
  std::vector<float> obs;
  env.Reset(0, &obs);
  env.SetState({0.44, 0.02});
  StepResult r;
  ASSERT_TRUE(env.Step({1.f}, &r).ok());
  EXPECT_NEAR(env.state().position, 0.46087956137086905, 1e-15);
  EXPECT_NEAR(env.state().velocity, 0.02087956137086907, 1e-15);
  EXPECT_TRUE(r.terminated);
  EXPECT_NEAR(r.reward, 99.9, 1e-12);
}

TEST(MountainCarContinuousEnvTest, ActionsOutsideTheBoxAreRejectedNotClipped) {
  MountainCarContinuous env;
  std::vector<float> obs;
  env.Reset(0, &obs);
  env.SetState({-0.5, 0.01});
  StepResult r;
  absl::Status s = env.Step({1.5f}, &r);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("MountainCarContinuous-v0"));
  EXPECT_THAT(s.message(), HasSubstr("above the upper bound 1"));
  EXPECT_EQ(env.state().position, -0.5);
  EXPECT_EQ(env.state().velocity, 0.01);
  EXPECT_EQ(env.elapsed_steps(), 0);
}

TEST(MountainCarContinuousEnvTest, IdlingTruncatesAfterNineHundredNinetyNineSteps) {
  MountainCarContinuous env;
  std::vector<float> obs;
  env.Reset(4, &obs);
  StepResult r;
  for (int i = 0; i < 998; ++i) {
    ASSERT_TRUE(env.Step({0.f}, &r).ok());
    ASSERT_FALSE(r.done()) << "step " << i;
    ASSERT_EQ(r.reward, 0.0);
  }
  ASSERT_TRUE(env.Step({0.f}, &r).ok());
  EXPECT_TRUE(r.truncated);
  EXPECT_FALSE(r.terminated);
}

TEST(MountainCarContinuousEnvTest, SpecFollowsTheClassicDefinition) {
  MountainCarContinuous env;
  EXPECT_EQ(env.spec().name, "MountainCarContinuous-v0");
  EXPECT_EQ(env.spec().max_episode_steps, 999);
  EXPECT_EQ(env.spec().reward_threshold, 90.0);
  EXPECT_FALSE(env.spec().action_space.is_discrete());
  EXPECT_EQ(env.spec().action_space.low, std::vector<float>{-1.f});
  EXPECT_EQ(env.spec().action_space.high, std::vector<float>{1.f});
}

}  // namespace
}  // namespace rlx
