#include "envs/acrobot.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace rlx {
namespace {

// Expected values below come from an independent implementation of the
// Acrobot "book" equations of motion with one RK4 step of dt = 0.2 (link
// lengths 1, masses 1, centres of mass 0.5, moments of inertia 1, g = 9.8),
// not from the code under test.

constexpr double kPi = 3.14159265358979323846;

TEST(AcrobotEnvTest, PositiveTorqueStepMatchesTheEquations) {
  Acrobot env;
  std::vector<float> obs;
  env.Reset(0, &obs);
  env.SetState({0.1, -0.2, 0.3, -0.4});
  StepResult r;
  ASSERT_TRUE(env.Step({2.f}, &r).ok());
  EXPECT_NEAR(env.state().theta1, 0.1282116312891261, 1e-12);
  EXPECT_NEAR(env.state().theta2, -0.211840321026976, 1e-12);
  EXPECT_NEAR(env.state().dtheta1, -0.023484731535001357, 1e-12);
  EXPECT_NEAR(env.state().dtheta2, 0.28679521459777013, 1e-12);
  ASSERT_EQ(r.observation.size(), 6u);
  EXPECT_FLOAT_EQ(r.observation[0], static_cast<float>(std::cos(0.1282116312891261)));
  EXPECT_FLOAT_EQ(r.observation[1], static_cast<float>(std::sin(0.1282116312891261)));
  EXPECT_FLOAT_EQ(r.observation[2], static_cast<float>(std::cos(-0.211840321026976)));
  EXPECT_FLOAT_EQ(r.observation[3], static_cast<float>(std::sin(-0.211840321026976)));
  EXPECT_FLOAT_EQ(r.observation[4], -0.023484731535001357f);
  EXPECT_FLOAT_EQ(r.observation[5], 0.28679521459777013f);
  EXPECT_EQ(r.reward, -1.0);
  EXPECT_FALSE(r.terminated);
}

TEST(AcrobotEnvTest, NegativeTorqueStepMatchesTheEquations) {
  Acrobot env;
  std::vector<float> obs;
  env.Reset(0, &obs);
  env.SetState({0.1, -0.2, 0.3, -0.4});
  StepResult r;
  ASSERT_TRUE(env.Step({0.f}, &r).ok());
  EXPECT_NEAR(env.state().theta1, 0.1544280535176176, 1e-12);
  EXPECT_NEAR(env.state().theta2, -0.2796784625217692, 1e-12);
  EXPECT_NEAR(env.state().dtheta1, 0.23102745634235644, 1e-12);
  EXPECT_NEAR(env.state().dtheta2, -0.37533176739803126, 1e-12);
}

TEST(AcrobotEnvTest, AnglesWrapAndSwingingUpTerminatesWithRewardZero) {
  Acrobot env;
  std::vector<float> obs;
  env.Reset(0, &obs);
  env.SetState({3.1, 0.0, 2.0, 0.0});
  StepResult r;
  ASSERT_TRUE(env.Step({1.f}, &r).ok());
  // theta1 integrates past pi and is wrapped by -2 pi.
  EXPECT_NEAR(env.state().theta1, -2.7719362846676403, 1e-12);
  EXPECT_NEAR(env.state().theta2, -0.008629148029294374, 1e-12);
  EXPECT_NEAR(env.state().dtheta1, 2.1972583347367203, 1e-12);
  EXPECT_NEAR(env.state().dtheta2, -0.1521741621389046, 1e-12);
  EXPECT_TRUE(r.terminated);
  EXPECT_EQ(r.reward, 0.0);
}

TEST(AcrobotEnvTest, VelocitiesAreBoundedAfterIntegration) {
  Acrobot env;
  std::vector<float> obs;
  env.Reset(0, &obs);
  env.SetState({0.0, 0.0, 4 * kPi, 9 * kPi});
  StepResult r;
  ASSERT_TRUE(env.Step({2.f}, &r).ok());
  // Unbounded RK4 gives dtheta1 = 22.37 and dtheta2 = 29.15; both angles wrap.
  EXPECT_NEAR(env.state().theta1, 4.024128090880972 - 2 * kPi, 1e-12);
  EXPECT_NEAR(env.state().theta2, 4.204318471950231 - 2 * kPi, 1e-12);
  EXPECT_DOUBLE_EQ(env.state().dtheta1, 4 * kPi);
  EXPECT_DOUBLE_EQ(env.state().dtheta2, 9 * kPi);
}

TEST(AcrobotEnvTest, HangingAtRestNeverTerminatesAndTruncatesAtFiveHundred) {
  Acrobot env;
  std::vector<float> obs;
  env.Reset(1, &obs);
  StepResult r;
  for (int i = 0; i < 499; ++i) {
    env.SetState({});
    ASSERT_TRUE(env.Step({1.f}, &r).ok());
    ASSERT_FALSE(r.done()) << "step " << i;
    ASSERT_EQ(r.reward, -1.0);
  }
  env.SetState({});
  ASSERT_TRUE(env.Step({1.f}, &r).ok());
  EXPECT_TRUE(r.truncated);
  EXPECT_FALSE(r.terminated);
  StepResult after;
  EXPECT_EQ(env.Step({1.f}, &after).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(AcrobotEnvTest, InitialStateIsUniformWithinATenth) {
  Acrobot env;
  std::vector<float> obs;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    env.Reset(seed, &obs);
    const Acrobot::State& s = env.state();
    for (double v : {s.theta1, s.theta2, s.dtheta1, s.dtheta2}) ASSERT_LT(std::abs(v), 0.1);
    ASSERT_EQ(obs.size(), 6u);
    EXPECT_FLOAT_EQ(obs[0], static_cast<float>(std::cos(s.theta1)));
    EXPECT_FLOAT_EQ(obs[5], static_cast<float>(s.dtheta2));
  }
}

TEST(AcrobotEnvTest, SpecFollowsTheClassicDefinition) {
  Acrobot env;
  const EnvSpec& spec = env.spec();
  EXPECT_EQ(spec.name, "Acrobot-v1");
  EXPECT_EQ(spec.max_episode_steps, 500);
  EXPECT_EQ(spec.reward_threshold, -100.0);
  EXPECT_EQ(spec.action_space.n, 3);
  EXPECT_EQ(spec.observation_space.flat_size(), 6);
  EXPECT_FLOAT_EQ(spec.observation_space.high[4], static_cast<float>(4 * kPi));
  EXPECT_FLOAT_EQ(spec.observation_space.high[5], static_cast<float>(9 * kPi));
}

}  // namespace
}  // namespace rlx
