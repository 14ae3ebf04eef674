// Contract tests run against every registered env.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "envs/env.h"
#include "envs/registry.h"

namespace rlx {
namespace {

using ::testing::HasSubstr;

// A valid action that varies with t: cycles through the discrete actions, or
// sweeps the box from low to high.
std::vector<float> ValidAction(const Space& space, int t) {
  if (space.is_discrete()) return {static_cast<float>(t % space.n)};
  std::vector<float> action(space.flat_size());
  const float frac = static_cast<float>(t % 7) / 6.f;
  for (size_t i = 0; i < action.size(); ++i) {
    action[i] = space.low[i] + (space.high[i] - space.low[i]) * frac;
  }
  return action;
}

// Steps until the episode ends or max_steps; returns every observation.
std::vector<std::vector<float>> Rollout(Env& env, int max_steps) {
  std::vector<std::vector<float>> observations;
  StepResult r;
  for (int t = 0; t < max_steps; ++t) {
    absl::Status s = env.Step(ValidAction(env.spec().action_space, t), &r);
    EXPECT_TRUE(s.ok()) << s;
    if (!s.ok()) break;
    observations.push_back(r.observation);
    if (r.done()) break;
  }
  return observations;
}

std::unique_ptr<Env> Make(const std::string& name) {
  auto env = MakeEnv(name);
  EXPECT_TRUE(env.ok()) << env.status();
  return std::move(env).value();
}

class AllEnvsTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<Env> NewEnv() { return Make(GetParam()); }
};

TEST_P(AllEnvsTest, SameSeedGivesTheSameEpisode) {
  auto a = NewEnv();
  auto b = NewEnv();
  std::vector<float> obs_a, obs_b;
  a->Reset(42, &obs_a);
  b->Reset(42, &obs_b);
  EXPECT_EQ(obs_a, obs_b);
  EXPECT_EQ(Rollout(*a, 50), Rollout(*b, 50));
}

TEST_P(AllEnvsTest, ReseedingReplaysTheEpisode) {
  auto env = NewEnv();
  std::vector<float> first, again;
  env->Reset(7, &first);
  const auto trajectory = Rollout(*env, 30);
  env->Reset(7, &again);
  EXPECT_EQ(first, again);
  EXPECT_EQ(Rollout(*env, 30), trajectory);
}

TEST_P(AllEnvsTest, DifferentSeedsGiveDifferentInitialObservations) {
  auto env = NewEnv();
  std::vector<float> obs1, obs2;
  env->Reset(1, &obs1);
  env->Reset(2, &obs2);
  EXPECT_NE(obs1, obs2);
}

TEST_P(AllEnvsTest, ResetWithoutSeedContinuesTheGenerator) {
  auto a = NewEnv();
  auto b = NewEnv();
  std::vector<float> seeded, next_a, next_b, reseeded;
  a->Reset(5, &seeded);
  a->Reset(std::nullopt, &next_a);
  EXPECT_NE(seeded, next_a);
  // Reproducible: the same seed followed by an unseeded reset gives the same state.
  b->Reset(5, &reseeded);
  b->Reset(std::nullopt, &next_b);
  EXPECT_EQ(next_a, next_b);
  // Stepping does not consume randomness.
  a->Reset(5, &seeded);
  Rollout(*a, 10);
  a->Reset(std::nullopt, &next_a);
  EXPECT_EQ(next_a, next_b);
}

TEST_P(AllEnvsTest, ObservationsHaveTheDeclaredSizeAndStayInTheBox) {
  auto env = NewEnv();
  const Space& space = env->spec().observation_space;
  ASSERT_FALSE(space.is_discrete());
  std::vector<float> obs;
  env->Reset(11, &obs);
  auto observations = Rollout(*env, 300);
  observations.push_back(obs);
  for (const auto& o : observations) {
    ASSERT_EQ(static_cast<int64_t>(o.size()), space.flat_size());
    for (size_t i = 0; i < o.size(); ++i) {
      EXPECT_GE(o[i], space.low[i]) << "element " << i;
      EXPECT_LE(o[i], space.high[i]) << "element " << i;
    }
  }
}

TEST_P(AllEnvsTest, StepBeforeResetIsAFailedPrecondition) {
  auto env = NewEnv();
  StepResult r;
  absl::Status s = env->Step(ValidAction(env->spec().action_space, 0), &r);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("before the first Reset"));
}

TEST_P(AllEnvsTest, StepAfterTheEpisodeEndedIsAFailedPreconditionUntilReset) {
  auto env = NewEnv();
  std::vector<float> obs;
  env->Reset(3, &obs);
  const auto trajectory = Rollout(*env, env->spec().max_episode_steps);
  ASSERT_FALSE(trajectory.empty());
  StepResult r;
  absl::Status s = env->Step(ValidAction(env->spec().action_space, 0), &r);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr(GetParam()));
  env->Reset(std::nullopt, &obs);
  EXPECT_TRUE(env->Step(ValidAction(env->spec().action_space, 0), &r).ok());
}

TEST_P(AllEnvsTest, EpisodesEndByTheTimeLimitAtTheLatest) {
  auto env = NewEnv();
  std::vector<float> obs;
  env->Reset(8, &obs);
  StepResult r;
  int steps = 0;
  while (steps < env->spec().max_episode_steps + 1) {
    ASSERT_TRUE(env->Step(ValidAction(env->spec().action_space, steps), &r).ok());
    ++steps;
    if (r.done()) break;
  }
  EXPECT_TRUE(r.done());
  EXPECT_LE(steps, env->spec().max_episode_steps);
  EXPECT_EQ(r.truncated, steps == env->spec().max_episode_steps);
}

// SetMaxEpisodeSteps replaces the registered limit, shorter or longer, like
// Gymnasium's make(name, max_episode_steps=...); 0 and below are refused.
TEST_P(AllEnvsTest, AnotherStepLimitReplacesTheRegisteredOne) {
  auto env = NewEnv();
  const int registered = env->spec().max_episode_steps;
  EXPECT_EQ(env->SetMaxEpisodeSteps(0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(env->SetMaxEpisodeSteps(-3).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(env->spec().max_episode_steps, registered);

  ASSERT_TRUE(env->SetMaxEpisodeSteps(7).ok());
  EXPECT_EQ(env->spec().max_episode_steps, 7);
  std::vector<float> obs;
  env->Reset(8, &obs);
  StepResult r;
  int steps = 0;
  do {
    ASSERT_TRUE(env->Step(ValidAction(env->spec().action_space, steps), &r).ok());
    ++steps;
  } while (!r.done() && steps < 100);
  EXPECT_LE(steps, 7);
  EXPECT_EQ(r.truncated, steps == 7);

  // Longer: the registered limit no longer ends an episode.
  auto longer = NewEnv();
  ASSERT_TRUE(longer->SetMaxEpisodeSteps(registered + 5).ok());
  longer->Reset(8, &obs);
  steps = 0;
  do {
    ASSERT_TRUE(longer->Step(ValidAction(longer->spec().action_space, steps), &r).ok());
    ++steps;
  } while (!r.done() && steps < registered + 100);
  if (!r.terminated) {
    EXPECT_EQ(steps, registered + 5);
    EXPECT_TRUE(r.truncated);
  }
}

// Bad actions are rejected with INVALID_ARGUMENT naming the problem, and the
// env then behaves exactly like a twin that never saw them.
TEST_P(AllEnvsTest, BadActionsAreRejectedAndLeaveTheStateUnchanged) {
  auto env = NewEnv();
  auto twin = NewEnv();
  std::vector<float> obs, twin_obs;
  env->Reset(21, &obs);
  twin->Reset(21, &twin_obs);
  const Space& space = env->spec().action_space;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();

  struct Case {
    std::vector<float> action;
    std::string message;
  };
  std::vector<Case> cases = {
      {{}, "action has 0 elements"},
      {std::vector<float>(space.flat_size() + 1, 0.f), "elements, expected"},
      {std::vector<float>(space.flat_size(), nan), "is NaN"},
      {std::vector<float>(space.flat_size(), inf), "not finite"},
      {std::vector<float>(space.flat_size(), -inf), "not finite"},
  };
  if (space.is_discrete()) {
    cases.push_back({{0.5f}, "is not an integer"});
    cases.push_back({{-1.f}, "out of range"});
    cases.push_back({{static_cast<float>(space.n)}, "out of range"});
  } else {
    std::vector<float> above = space.high, below = space.low;
    above[0] = std::nextafter(space.high[0], inf);
    below[0] = std::nextafter(space.low[0], -inf);
    cases.push_back({above, "above the upper bound"});
    cases.push_back({below, "below the lower bound"});
  }

  StepResult r;
  r.reward = 12345;
  for (const Case& c : cases) {
    absl::Status s = env->Step(c.action, &r);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_THAT(s.message(), HasSubstr(c.message));
    EXPECT_THAT(s.message(), HasSubstr(GetParam()));
    EXPECT_EQ(r.reward, 12345) << "result written on error";
  }
  EXPECT_EQ(Rollout(*env, 20), Rollout(*twin, 20));
}

INSTANTIATE_TEST_SUITE_P(Registered, AllEnvsTest, ::testing::ValuesIn(RegisteredEnvs()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name;
                           for (char c : info.param) {
                             if (std::isalnum(static_cast<unsigned char>(c))) name += c;
                           }
                           return name;
                         });

}  // namespace
}  // namespace rlx
