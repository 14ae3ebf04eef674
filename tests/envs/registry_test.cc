#include "envs/registry.h"

#include <cmath>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace rlx {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(EnvRegistryTest, ListsTheClassicControlEnvsAndThePreferenceGameSorted) {
  EXPECT_THAT(RegisteredEnvs(), ElementsAre("Acrobot-v1", "CartPole-v1", "MountainCar-v0",
                                            "MountainCarContinuous-v0", "Pendulum-v1",
                                            "PreferenceGame-v0"));
}

TEST(EnvRegistryTest, PreferenceGameIsOneStepWithThreeCriteriaPerAction) {
  auto env = MakeEnv("PreferenceGame-v0");
  ASSERT_TRUE(env.ok());
  const double rewards[3] = {0, 2, 1};
  const float positions[3] = {1, 0, 2};
  for (int a = 0; a < 3; ++a) {
    std::vector<float> obs;
    (*env)->Reset(1, &obs);
    ASSERT_EQ(obs.size(), 1u);
    EXPECT_LT(std::abs(obs[0]), 0.05f);
    StepResult r;
    ASSERT_TRUE((*env)->Step(std::vector<float>{static_cast<float>(a)}, &r).ok());
    EXPECT_TRUE(r.terminated);
    EXPECT_EQ(r.reward, rewards[a]);
    EXPECT_EQ(r.observation, std::vector<float>{positions[a]});
  }
}

TEST(EnvRegistryTest, MakesEachRegisteredEnvUnderItsName) {
  for (const std::string& name : RegisteredEnvs()) {
    absl::StatusOr<std::unique_ptr<Env>> env = MakeEnv(name);
    ASSERT_TRUE(env.ok()) << name << ": " << env.status();
    ASSERT_NE(*env, nullptr);
    EXPECT_EQ((*env)->spec().name, name);
    EXPECT_GT((*env)->spec().max_episode_steps, 0) << name;
  }
}

TEST(EnvRegistryTest, EachCallMakesAnIndependentEnv) {
  auto a = MakeEnv("CartPole-v1");
  auto b = MakeEnv("CartPole-v1");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->get(), b->get());
  std::vector<float> obs;
  (*a)->Reset(0, &obs);
  StepResult r;
  EXPECT_TRUE((*a)->Step({1.f}, &r).ok());
  EXPECT_EQ((*b)->Step({1.f}, &r).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(EnvRegistryTest, ActionSpacesMatchTheClassicDefinitions) {
  auto space = [](const char* name) { return (*MakeEnv(name))->spec().action_space; };
  EXPECT_EQ(space("CartPole-v1").n, 2);
  EXPECT_EQ(space("Acrobot-v1").n, 3);
  EXPECT_EQ(space("MountainCar-v0").n, 3);
  EXPECT_FALSE(space("Pendulum-v1").is_discrete());
  EXPECT_FALSE(space("MountainCarContinuous-v0").is_discrete());
}

TEST(EnvRegistryTest, UnknownNameIsNotFoundAndListsTheKnownEnvs) {
  absl::StatusOr<std::unique_ptr<Env>> env = MakeEnv("cartpole");
  EXPECT_EQ(env.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(env.status().message(), HasSubstr("unknown env \"cartpole\""));
  EXPECT_THAT(env.status().message(), HasSubstr("CartPole-v1"));
  EXPECT_THAT(env.status().message(), HasSubstr("Pendulum-v1"));
}

}  // namespace
}  // namespace rlx
