#include "envs/vector_env.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "envs/cartpole.h"
#include "envs/pendulum.h"
#include "envs/registry.h"

namespace rlx {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::unique_ptr<Env>> MakeEnvs(const std::string& name, int n) {
  std::vector<std::unique_ptr<Env>> envs;
  for (int i = 0; i < n; ++i) envs.push_back(*MakeEnv(name));
  return envs;
}

TEST(VectorEnvTest, CreateRejectsNoEnvsAndUnknownNames) {
  EXPECT_EQ(VectorEnv::Create("CartPole-v1", 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VectorEnv::Create("NoSuchEnv-v0", 2).status().code(), absl::StatusCode::kNotFound);
}

TEST(VectorEnvTest, FromEnvsRejectsMixedNullAndEmptyLists) {
  EXPECT_EQ(VectorEnv::FromEnvs({}).status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::unique_ptr<Env>> mixed;
  mixed.push_back(std::make_unique<CartPole>());
  mixed.push_back(std::make_unique<Pendulum>());
  absl::Status s = VectorEnv::FromEnvs(std::move(mixed)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("env 1 is Pendulum-v1 but env 0 is CartPole-v1"));
  std::vector<std::unique_ptr<Env>> with_null;
  with_null.push_back(std::make_unique<CartPole>());
  with_null.push_back(nullptr);
  EXPECT_THAT(VectorEnv::FromEnvs(std::move(with_null)).status().message(),
              HasSubstr("env 1 is null"));
}

TEST(VectorEnvTest, ResetSeedsEnvIWithBaseSeedPlusI) {
  auto venv = VectorEnv::Create("Acrobot-v1", 3);
  ASSERT_TRUE(venv.ok()) << venv.status();
  EXPECT_EQ(venv->num_envs(), 3);
  EXPECT_EQ(venv->spec().name, "Acrobot-v1");
  venv->Reset(100);
  std::vector<float> flat, expected_flat;
  venv->Observations(&flat);
  for (int i = 0; i < 3; ++i) {
    auto single = *MakeEnv("Acrobot-v1");
    std::vector<float> obs;
    single->Reset(100 + i, &obs);
    EXPECT_EQ(venv->observation(i), obs) << "env " << i;
    expected_flat.insert(expected_flat.end(), obs.begin(), obs.end());
    EXPECT_EQ(venv->episode_return(i), 0.0);
    EXPECT_EQ(venv->episode_length(i), 0);
  }
  EXPECT_EQ(flat, expected_flat);
}

TEST(VectorEnvTest, StepBeforeResetIsAFailedPrecondition) {
  auto venv = VectorEnv::Create("CartPole-v1", 2);
  ASSERT_TRUE(venv.ok());
  std::vector<VectorStepResult> results;
  EXPECT_EQ(venv->Step({0.f, 1.f}, &results).code(), absl::StatusCode::kFailedPrecondition);
}

// Runs a VectorEnv beside independent single envs seeded the same way and
// checks every step: rewards and flags, the final observation of each ended
// episode, the unseeded auto-reset, and the episode statistics.
TEST(VectorEnvTest, AutoResetMatchesIndependentEnvsResetWithoutSeed) {
  constexpr int kNumEnvs = 3;
  constexpr uint64_t kBaseSeed = 11;
  auto venv = VectorEnv::Create("CartPole-v1", kNumEnvs);
  ASSERT_TRUE(venv.ok());
  venv->Reset(kBaseSeed);
  std::vector<std::unique_ptr<Env>> singles = MakeEnvs("CartPole-v1", kNumEnvs);
  std::vector<std::vector<float>> obs(kNumEnvs);
  std::vector<double> returns(kNumEnvs, 0.0);
  std::vector<int> lengths(kNumEnvs, 0);
  for (int i = 0; i < kNumEnvs; ++i) singles[i]->Reset(kBaseSeed + i, &obs[i]);

  int episodes_ended = 0;
  std::vector<VectorStepResult> results;
  for (int t = 0; t < 200; ++t) {
    // Mostly pushing right ends episodes after a few dozen steps.
    std::vector<float> actions(kNumEnvs);
    for (int i = 0; i < kNumEnvs; ++i) actions[i] = (t + i) % 4 == 0 ? 0.f : 1.f;
    ASSERT_TRUE(venv->Step(actions, &results).ok());
    ASSERT_EQ(results.size(), static_cast<size_t>(kNumEnvs));
    for (int i = 0; i < kNumEnvs; ++i) {
      StepResult expected;
      ASSERT_TRUE(singles[i]->Step({actions[i]}, &expected).ok());
      returns[i] += expected.reward;
      ++lengths[i];
      const VectorStepResult& got = results[i];
      EXPECT_EQ(got.reward, expected.reward);
      EXPECT_EQ(got.terminated, expected.terminated);
      EXPECT_EQ(got.truncated, expected.truncated);
      if (expected.done()) {
        ++episodes_ended;
        EXPECT_EQ(got.final_observation, expected.observation);
        EXPECT_EQ(got.episode_return, returns[i]);
        EXPECT_EQ(got.episode_length, lengths[i]);
        singles[i]->Reset(std::nullopt, &obs[i]);
        returns[i] = 0.0;
        lengths[i] = 0;
        EXPECT_EQ(got.observation, obs[i]) << "first observation of the next episode";
      } else {
        EXPECT_THAT(got.final_observation, IsEmpty());
        EXPECT_EQ(got.episode_length, 0);
        EXPECT_EQ(got.observation, expected.observation);
      }
      EXPECT_EQ(venv->observation(i), got.observation);
      EXPECT_EQ(venv->episode_return(i), returns[i]);
      EXPECT_EQ(venv->episode_length(i), lengths[i]);
    }
  }
  EXPECT_GE(episodes_ended, 6);
}

TEST(VectorEnvTest, TruncatedEpisodesCarryTheirFinalObservation) {
  auto venv = VectorEnv::Create("MountainCar-v0", 2);
  ASSERT_TRUE(venv.ok());
  venv->Reset(0);
  std::vector<VectorStepResult> results;
  for (int t = 0; t < 199; ++t) {
    ASSERT_TRUE(venv->Step({1.f, 1.f}, &results).ok());
    ASSERT_FALSE(results[0].done() || results[1].done());
  }
  const std::vector<float> before = venv->observation(0);
  ASSERT_TRUE(venv->Step({1.f, 1.f}, &results).ok());
  for (int i = 0; i < 2; ++i) {
    const VectorStepResult& r = results[i];
    EXPECT_TRUE(r.truncated);
    EXPECT_FALSE(r.terminated);
    EXPECT_EQ(r.final_observation.size(), 2u);
    EXPECT_NE(r.final_observation, r.observation);
    EXPECT_EQ(r.episode_length, 200);
    EXPECT_EQ(r.episode_return, -200.0);
    EXPECT_EQ(r.observation[1], 0.f) << "a new MountainCar episode starts at rest";
    EXPECT_EQ(venv->episode_length(i), 0);
  }
  EXPECT_NE(results[0].final_observation, before);
}

TEST(VectorEnvTest, ResetAgainRestartsEveryEnvFromTheSeeds) {
  auto venv = VectorEnv::Create("Pendulum-v1", 2);
  ASSERT_TRUE(venv.ok());
  venv->Reset(3);
  const std::vector<float> first = venv->observation(1);
  std::vector<VectorStepResult> results;
  ASSERT_TRUE(venv->Step({0.5f, -0.5f}, &results).ok());
  EXPECT_EQ(venv->episode_length(1), 1);
  venv->Reset(3);
  EXPECT_EQ(venv->observation(1), first);
  EXPECT_EQ(venv->episode_length(1), 0);
  EXPECT_EQ(venv->episode_return(1), 0.0);
}

TEST(VectorEnvTest, WrongActionCountIsRejected) {
  auto venv = VectorEnv::Create("Pendulum-v1", 3);
  ASSERT_TRUE(venv.ok());
  venv->Reset(0);
  std::vector<VectorStepResult> results;
  absl::Status s = venv->Step({0.f, 0.f}, &results);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("got 2 action values, expected 3"));
}

TEST(VectorEnvTest, OneBadActionRejectsTheWholeStepAndMovesNoEnv) {
  auto venv = VectorEnv::Create("CartPole-v1", 3);
  auto twin = VectorEnv::Create("CartPole-v1", 3);
  ASSERT_TRUE(venv.ok() && twin.ok());
  venv->Reset(50);
  twin->Reset(50);
  std::vector<VectorStepResult> results, twin_results;
  absl::Status s = venv->Step({1.f, 2.f, 0.f}, &results);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("env 1: action[0] = 2 is out of range [0, 2)"));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(venv->episode_length(i), 0);
  for (int t = 0; t < 30; ++t) {
    const std::vector<float> actions = {1.f, static_cast<float>(t % 2), 0.f};
    ASSERT_TRUE(venv->Step(actions, &results).ok());
    ASSERT_TRUE(twin->Step(actions, &twin_results).ok());
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(results[i].observation, twin_results[i].observation);
      EXPECT_EQ(results[i].final_observation, twin_results[i].final_observation);
    }
  }
}

}  // namespace
}  // namespace rlx
