#include "envs/navigation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "envs/navigation_controllers.h"
#include "envs/navigation_eval.h"
#include "envs/spatial_grid.h"

namespace rlx {
namespace {

std::unique_ptr<NavigationEnv> MakeNav(int agents, bool obstacles = false,
                                       NavigationScenario scenario = NavigationScenario::kRandom) {
  NavigationConfig c;
  c.num_agents = agents;
  c.obstacles = obstacles;
  c.scenario = scenario;
  absl::StatusOr<std::unique_ptr<NavigationEnv>> env = NavigationEnv::Create(c);
  EXPECT_TRUE(env.ok()) << env.status();
  return std::move(*env);
}

TEST(SpatialGridTest, FindsExactlyThePairsAllPairsFindsOnRandomCases) {
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 50; ++trial) {
    const int n = 1 + static_cast<int>(rng() % 300);
    const double side = 1.0 + (rng() % 100) / 10.0, radius = 0.5;
    std::uniform_real_distribution<float> u(-2.0f, static_cast<float>(side) + 2.0f);  // some outside
    std::vector<float> xy(2 * n);
    for (float& v : xy) v = u(rng);
    SpatialGrid grid(0.0, 0.0, side, radius);
    grid.Rebuild(xy.data(), n);
    for (int i = 0; i < n; ++i) {
      std::vector<int> found, want;
      grid.ForEachWithin(xy[2 * i], xy[2 * i + 1], i,
                         [&](int j, float, float, float) { found.push_back(j); });
      for (int j = 0; j < n; ++j) {
        const float dx = xy[2 * j] - xy[2 * i], dy = xy[2 * j + 1] - xy[2 * i + 1];
        if (j != i && dx * dx + dy * dy < radius * radius) want.push_back(j);
      }
      std::sort(found.begin(), found.end());
      ASSERT_EQ(found, want) << "trial " << trial << " point " << i;
    }
  }
}

TEST(NavigationTest, NeighbourGraphEqualsAllPairsWithinSensingRadius) {
  for (int agents : {8, 64, 512}) {
    std::unique_ptr<NavigationEnv> env = MakeNav(agents);
    std::vector<float> obs;
    env->Reset(agents, &obs);
    std::vector<float> actions(2 * agents);
    std::mt19937_64 rng(agents);
    std::uniform_real_distribution<float> u(-1, 1);
    MultiAgentStepResult r;
    for (int step = 0; step < 30; ++step) {
      for (float& a : actions) a = u(rng);
      ASSERT_TRUE(env->Step(actions, &r).ok());
    }
    const std::vector<float>& p = env->positions();
    const NeighbourGraph& g = env->graph();
    for (int i = 0; i < agents; ++i) {
      std::vector<int> found(g.neighbors.begin() + g.offsets[i], g.neighbors.begin() + g.offsets[i + 1]);
      std::sort(found.begin(), found.end());
      std::vector<int> want;
      for (int j = 0; j < agents; ++j) {
        const float dx = p[2 * j] - p[2 * i], dy = p[2 * j + 1] - p[2 * i + 1];
        if (j != i && dx * dx + dy * dy < 0.25f) want.push_back(j);
      }
      ASSERT_EQ(found, want) << "agents " << agents << " agent " << i;
    }
  }
}

TEST(NavigationTest, DoubleIntegratorStepsByEulerWithVelocityClip) {
  std::unique_ptr<NavigationEnv> env = MakeNav(1);
  ASSERT_TRUE(env->SetState({1.0f, 1.0f}, {0.0f, 0.0f}, {3.0f, 3.0f}, {}).ok());
  MultiAgentStepResult r;
  ASSERT_TRUE(env->Step({1.0f, -0.5f}, &r).ok());
  // Position moves with the old velocity (0); velocity += F / m * dt.
  EXPECT_FLOAT_EQ(env->positions()[0], 1.0f);
  EXPECT_NEAR(env->velocities()[0], 0.3, 1e-6);
  EXPECT_NEAR(env->velocities()[1], -0.15, 1e-6);
  ASSERT_TRUE(env->Step({1.0f, -0.5f}, &r).ok());
  EXPECT_NEAR(env->positions()[0], 1.0 + 0.3 * 0.03, 1e-6);
  EXPECT_NEAR(env->positions()[1], 1.0 - 0.15 * 0.03, 1e-6);
  EXPECT_FLOAT_EQ(env->velocities()[0], 0.5f);  // 0.6 clipped to 0.5
  EXPECT_NEAR(env->velocities()[1], -0.3, 1e-6);
}

TEST(NavigationTest, CollisionIsADistanceUnderTwoRadiiCountedOncePerContact) {
  std::unique_ptr<NavigationEnv> env = MakeNav(3);
  // Agents 0 and 1 are 0.09 apart (touching); agent 2 is 0.11 from agent 1.
  ASSERT_TRUE(env->SetState({1.0f, 1.0f, 1.09f, 1.0f, 1.2f, 1.0f}, std::vector<float>(6, 0.0f),
                            {3, 3, 3, 2, 2, 3}, {})
                  .ok());
  EXPECT_TRUE(env->in_collision(0));
  EXPECT_TRUE(env->in_collision(1));
  EXPECT_FALSE(env->in_collision(2));
  MultiAgentStepResult r;
  ASSERT_TRUE(env->Step(std::vector<float>(6, 0.0f), &r).ok());
  EXPECT_EQ(env->stats()[0].collisions, 1);  // still the same contact
  EXPECT_TRUE(env->stats()[0].collided);
  EXPECT_FALSE(env->stats()[2].collided);
  // The colliding agents pay the penalty, the other does not.
  EXPECT_NEAR(r.rewards[0], -0.5, 1e-6);
  EXPECT_NEAR(r.rewards[2], 0.0, 1e-6);
}

// Three resting agents: 0 and 1 are 0.15 apart (clearance 0.05), agent 2
// is 0.3 from agent 1 (clearance 0.2). One step without forces; returns the
// rewards (the near-miss ramp only: no progress, no action cost).
std::vector<float> RampRewards(double proximity_range, NavigationAgentStats* stats0 = nullptr) {
  NavigationConfig c;
  c.num_agents = 3;
  c.proximity_penalty = 2.0;
  c.proximity_range = proximity_range;
  std::unique_ptr<NavigationEnv> env = *NavigationEnv::Create(c);
  EXPECT_TRUE(env->SetState({1.0f, 1.0f, 1.15f, 1.0f, 1.45f, 1.0f}, std::vector<float>(6, 0.0f),
                            {3, 3, 3, 2, 2, 3}, {})
                  .ok());
  MultiAgentStepResult r;
  EXPECT_TRUE(env->Step(std::vector<float>(6, 0.0f), &r).ok());
  if (stats0 != nullptr) *stats0 = env->stats()[0];
  return r.rewards;
}

TEST(NavigationTest, NearMissesPayTheProximityRampBeforeContact) {
  // Default range 0.1: clearance 0.05 is half the ramp, 0.2 nothing.
  NavigationAgentStats stats0;
  const std::vector<float> rewards = RampRewards(0.1, &stats0);
  ASSERT_EQ(rewards.size(), 3u);
  EXPECT_NEAR(rewards[0], -1.0, 1e-4);
  EXPECT_NEAR(rewards[1], -1.0, 1e-4);
  EXPECT_NEAR(rewards[2], 0.0, 1e-6);
  EXPECT_FALSE(stats0.collided);
}

TEST(NavigationTest, ProximityRangeWidensTheRamp) {
  // Range 0.3: all three clearances are under it.
  const std::vector<float> rewards = RampRewards(0.3);
  ASSERT_EQ(rewards.size(), 3u);
  EXPECT_NEAR(rewards[0], -2.0 * (1 - 0.05 / 0.3), 1e-4);
  EXPECT_NEAR(rewards[1], -2.0 * (1 - 0.05 / 0.3), 1e-4);
  EXPECT_NEAR(rewards[2], -2.0 * (1 - 0.2 / 0.3), 1e-4);
  NavigationConfig c;
  c.proximity_range = 0.5;  // beyond what the LiDAR sees of obstacles
  EXPECT_THAT(std::string(NavigationEnv::Create(c).status().message()),
              testing::HasSubstr("proximity_range must be in (0, 0.4]"));
  EXPECT_EQ(ParseNavigationConfig("proximity_range=0.25")->proximity_range, 0.25);
}

TEST(NavigationTest, ReachingTheGoalIsRecordedWithItsStepAndBonus) {
  std::unique_ptr<NavigationEnv> env = MakeNav(2);
  // Agent 0 is 0.105 from its goal moving towards it at 0.5; agent 1 is far.
  ASSERT_TRUE(env->SetState({1.0f, 1.0f, 3.0f, 3.0f}, {0.5f, 0.0f, 0.0f, 0.0f},
                            {1.105f, 1.0f, 1.0f, 3.0f}, {})
                  .ok());
  MultiAgentStepResult r;
  ASSERT_TRUE(env->Step({0.0f, 0.0f, 0.0f, 0.0f}, &r).ok());
  EXPECT_TRUE(env->stats()[0].reached);
  EXPECT_EQ(env->stats()[0].reach_step, 1);
  EXPECT_TRUE(env->stats()[0].success());
  EXPECT_FALSE(env->stats()[1].reached);
  // progress 10 x 0.015 plus the bonus 1.
  EXPECT_NEAR(r.rewards[0], 10 * 0.015 + 1.0, 1e-4);
  EXPECT_FALSE(r.done());
}

TEST(NavigationTest, EpisodeEndsWhenEveryAgentIsHomeOrAtTheStepLimit) {
  NavigationConfig c;
  c.num_agents = 1;
  c.episode_steps = 3;
  std::unique_ptr<NavigationEnv> env = *NavigationEnv::Create(c);
  ASSERT_TRUE(env->SetState({1.0f, 1.0f}, {0, 0}, {2.0f, 1.0f}, {}).ok());
  MultiAgentStepResult r;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(env->Step({0.0f, 0.0f}, &r).ok());
  EXPECT_TRUE(r.done());
  EXPECT_TRUE(r.truncated[0]);
  EXPECT_EQ(env->Step({0.0f, 0.0f}, &r).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(env->SetState({1.0f, 1.0f}, {0.5f, 0}, {1.11f, 1.0f}, {}).ok());
  ASSERT_TRUE(env->Step({0.0f, 0.0f}, &r).ok());
  EXPECT_TRUE(r.terminated[0]);
}

TEST(NavigationTest, BadActionsAreRejectedNamingTheAgentAndChangeNothing) {
  std::unique_ptr<NavigationEnv> env = MakeNav(2);
  std::vector<float> obs;
  env->Reset(1, &obs);
  const std::vector<float> before = env->positions();
  MultiAgentStepResult r;
  absl::Status s = env->Step({0.0f, 0.0f, 1.5f, 0.0f}, &r);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), testing::HasSubstr("agent 1"));
  EXPECT_EQ(env->Step({0.0f, NAN, 0.0f, 0.0f}, &r).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(env->Step({0.0f, 0.0f}, &r).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(env->positions(), before);
  EXPECT_EQ(env->elapsed_steps(), 0);
}

TEST(NavigationTest, ObservationHoldsGoalVelocityAndNearestNeighboursFirst) {
  NavigationConfig c;
  c.num_agents = 4;
  c.max_agent_neighbors = 2;
  std::unique_ptr<NavigationEnv> env = *NavigationEnv::Create(c);
  // Agent 0 senses 1 (0.3 away), 2 (0.2 away) and 3 (0.4 away): slots hold 2 then 1.
  ASSERT_TRUE(env->SetState({1, 1, 1.3f, 1, 1, 1.2f, 0.6f, 1}, {0.1f, 0, 0, 0, 0, 0.2f, 0, 0},
                            {2, 1, 3, 3, 3, 0, 0, 0}, {})
                  .ok());
  std::vector<float> obs;
  env->Observations(&obs);
  const int64_t w = env->spec().graph_layout.width();
  ASSERT_EQ(w, 5 + 2 * 7);
  ASSERT_EQ(obs.size(), 4u * w);
  // Ego: goal offset (1, 0) clipped to length 0.5 then / 0.5; velocity / 0.5; distance / 2.
  EXPECT_THAT(std::vector<float>(obs.begin(), obs.begin() + 5),
              testing::Pointwise(testing::FloatNear(1e-5), std::vector<float>{1, 0, 0.2f, 0, 0.5f}));
  const float* s0 = &obs[5];
  EXPECT_THAT(std::vector<float>(s0, s0 + 7),
              testing::Pointwise(testing::FloatNear(1e-5),
                                 std::vector<float>{1, 1, 0, 0, 0.4f, -0.2f, 0.4f}));
  const float* s1 = &obs[12];
  EXPECT_THAT(std::vector<float>(s1, s1 + 7),
              testing::Pointwise(testing::FloatNear(1e-5),
                                 std::vector<float>{1, 1, 0, 0.6f, 0, -0.2f, 0}));
  EXPECT_EQ(env->graph().degree(0), 3);
}

TEST(NavigationTest, AnAgentAloneHasOnlyPaddingSlots) {
  std::unique_ptr<NavigationEnv> env = MakeNav(2, /*obstacles=*/true);
  ASSERT_TRUE(env->SetState({1, 1, 3, 3}, {0, 0, 0, 0}, {2, 2, 3.5f, 3}, {}).ok());
  std::vector<float> obs;
  env->Observations(&obs);
  const int64_t w = env->spec().graph_layout.width();
  EXPECT_EQ(env->spec().graph_layout.max_edges, 8 + 32);
  for (int64_t k = 5; k < w; ++k) ASSERT_EQ(obs[k], 0.0f) << k;
  EXPECT_EQ(env->graph().degree(0), 0);
}

TEST(NavigationTest, ObstacleDistanceRayHitsAndContact) {
  Obstacle o;  // 0.4 x 0.2 box at (1, 1), rotated 90 degrees: 0.2 wide, 0.4 tall
  o.cx = 1;
  o.cy = 1;
  o.hw = 0.2f;
  o.hh = 0.1f;
  o.c = 0;
  o.s = 1;
  EXPECT_NEAR(ObstacleSignedDistance(o, 1.3f, 1.0f), 0.2, 1e-6);
  EXPECT_NEAR(ObstacleSignedDistance(o, 1.0f, 1.5f), 0.3, 1e-6);
  EXPECT_NEAR(ObstacleSignedDistance(o, 1.0f, 1.0f), -0.1, 1e-6);
  EXPECT_NEAR(RayObstacleHit(o, 1.5f, 1.0f, -1, 0, 0.5f), 0.4, 1e-6);
  EXPECT_TRUE(std::isinf(RayObstacleHit(o, 1.5f, 1.0f, 1, 0, 0.5f)));   // pointing away
  EXPECT_TRUE(std::isinf(RayObstacleHit(o, 1.7f, 1.0f, -1, 0, 0.5f)));  // out of range
  EXPECT_EQ(RayObstacleHit(o, 1.0f, 1.0f, 1, 0, 0.5f), 0.0f);           // inside

  std::unique_ptr<NavigationEnv> env = MakeNav(2, /*obstacles=*/true);
  ASSERT_TRUE(env->SetState({1.14f, 1.0f, 1.5f, 1.0f}, {0, 0, 0, 0}, {2, 2, 3, 3}, {o}).ok());
  EXPECT_TRUE(env->in_collision(0));   // 0.04 from the box
  EXPECT_FALSE(env->in_collision(1));  // 0.4 from the box
  float hits[32];
  env->Lidar(1, hits);
  EXPECT_NEAR(hits[0], 0.4, 1e-5);  // ray 0 points to -x
  EXPECT_TRUE(std::isinf(hits[16]));  // ray 16 points to +x
  std::vector<float> obs;
  env->Observations(&obs);
  const int64_t w = env->spec().graph_layout.width();
  const float* ray0 = &obs[w + 5 + 8 * 7];
  // 0.4 is not under the active range 0.4: padding. Move agent 1 closer.
  EXPECT_EQ(ray0[0], 0.0f);
  ASSERT_TRUE(env->SetState({1.14f, 1.0f, 1.45f, 1.0f}, {0, 0, 0, 0}, {2, 2, 3, 3}, {o}).ok());
  env->Observations(&obs);
  EXPECT_THAT(std::vector<float>(ray0, ray0 + 7),
              testing::Pointwise(testing::FloatNear(1e-5),
                                 std::vector<float>{1, 0, 1, -0.7f, 0, 0, 0}));
}

TEST(NavigationTest, FreeRaysFillMissedRaySlotsWithFreeSpaceNodes) {
  // A 0.2 x 0.2 box 0.25 to the agent's -x side (its surface 0.15 away);
  // the agent moves at (0.1, 0).
  Obstacle o;
  o.cx = 0.75f;
  o.cy = 1.0f;
  o.hw = 0.1f;
  o.hh = 0.1f;
  NavigationConfig c;
  c.num_agents = 1;
  c.obstacles = true;
  c.free_rays = true;
  std::unique_ptr<NavigationEnv> env = *NavigationEnv::Create(c);
  ASSERT_TRUE(env->SetState({1.0f, 1.0f}, {0.1f, 0}, {3, 3}, {o}).ok());
  std::vector<float> obs;
  env->Observations(&obs);
  const float* rays = &obs[5 + 8 * 7];
  // Ray 0 (-x) hits the box at 0.15: an obstacle node.
  EXPECT_THAT(std::vector<float>(rays, rays + 7),
              testing::Pointwise(testing::FloatNear(1e-5),
                                 std::vector<float>{1, 0, 1, -0.3f, 0, -0.2f, 0}));
  // Ray 16 (+x) hits nothing: a free-space node at the ray's end, 0.4 away.
  EXPECT_THAT(std::vector<float>(rays + 16 * 7, rays + 17 * 7),
              testing::Pointwise(testing::FloatNear(1e-5),
                                 std::vector<float>{1, 0, 0, 0.8f, 0, -0.2f, 0}));
  // Every ray slot is valid; without free_rays only the hits are.
  int valid = 0;
  for (int r = 0; r < 32; ++r) valid += rays[r * 7] == 1.0f;
  EXPECT_EQ(valid, 32);
  c.free_rays = false;
  env = *NavigationEnv::Create(c);
  ASSERT_TRUE(env->SetState({1.0f, 1.0f}, {0.1f, 0}, {3, 3}, {o}).ok());
  env->Observations(&obs);
  int hits = 0;
  for (int r = 0; r < 32; ++r) hits += rays[r * 7] == 1.0f;
  EXPECT_GT(hits, 0);
  EXPECT_LT(hits, 32);
  EXPECT_EQ(rays[16 * 7], 0.0f);
  EXPECT_TRUE(ParseNavigationConfig("free_rays=1")->free_rays);
  EXPECT_FALSE(ParseNavigationConfig("free_rays=2").ok());
}

// Two resting agents at (x0, 1) and (x1, 1), goals straight up, beside a
// 0.2 x 0.2 box centred at (0.5, 1), no action cost; one step without
// forces. Returns the env (contacts, stats) and the step's rewards.
std::unique_ptr<NavigationEnv> StepBesideBox(NavigationConfig c, float x0, float x1,
                                             std::vector<float>* rewards) {
  Obstacle o;
  o.cx = 0.5f;
  o.cy = 1.0f;
  o.hw = 0.1f;
  o.hh = 0.1f;
  c.num_agents = 2;
  c.obstacles = true;
  c.action_cost = 0;
  std::unique_ptr<NavigationEnv> env = *NavigationEnv::Create(c);
  EXPECT_TRUE(env->SetState({x0, 1.0f, x1, 1.0f}, {0, 0, 0, 0}, {x0, 3, x1, 3}, {o}).ok());
  MultiAgentStepResult r;
  EXPECT_TRUE(env->Step({0, 0, 0, 0}, &r).ok());
  *rewards = r.rewards;
  return env;
}

TEST(NavigationTest, ObstacleCollisionPenaltyChargesObstacleContactsApart) {
  // Agent 0 touches the box (0.03 from its side) and agent 1 (0.08 apart);
  // agent 1 touches only agent 0.
  NavigationConfig c;
  c.collision_penalty = 20;
  auto rewards = [&](double obstacle_penalty) {
    c.obstacle_collision_penalty = obstacle_penalty;
    std::vector<float> r;
    std::unique_ptr<NavigationEnv> env = StepBesideBox(c, 0.63f, 0.71f, &r);
    EXPECT_TRUE(env->in_collision(0));
    EXPECT_TRUE(env->in_collision(1));
    EXPECT_EQ(env->stats()[0].collisions, 1);  // one contact begun, with two things
    return r;
  };
  std::vector<float> r = rewards(-1);  // default: one penalty for any contact
  EXPECT_NEAR(r[0], -20, 1e-4);
  EXPECT_NEAR(r[1], -20, 1e-4);
  r = rewards(3);
  EXPECT_NEAR(r[0], -23, 1e-4);
  EXPECT_NEAR(r[1], -20, 1e-4);
  EXPECT_EQ(ParseNavigationConfig("obstacle_collision_penalty=3")->obstacle_collision_penalty, 3.0);
}

TEST(NavigationTest, ContactAndClearanceSeeObstaclesAcrossGridCellBorders) {
  // Grid cells are 0.5 wide from -0.25: [0.25, 0.75) and [0.75, 1.25). The
  // box's left side is at x = 0.76, in the second cell; an agent at x = 0.73
  // (first cell) is 0.03 from it: in contact. Another at x = 0.70 is 0.06
  // away (0.01 clearance): near-miss penalty, no contact.
  Obstacle o;
  o.cx = 0.96f;
  o.cy = 1.0f;
  o.hw = 0.2f;
  o.hh = 0.2f;
  NavigationConfig c;
  c.num_agents = 2;
  c.obstacles = true;
  c.proximity_penalty = 1.0;
  c.action_cost = 0;
  absl::StatusOr<std::unique_ptr<NavigationEnv>> env = NavigationEnv::Create(c);
  ASSERT_TRUE(env.ok());
  ASSERT_TRUE((*env)->SetState({0.73f, 1.0f, 0.70f, 1.6f}, {0, 0, 0, 0}, {0.73f, 3, 0.70f, 3}, {o}).ok());
  EXPECT_TRUE((*env)->in_collision(0));
  EXPECT_FALSE((*env)->in_collision(1));
  ASSERT_TRUE((*env)->SetState({0.73f, 1.6f, 0.70f, 1.0f}, {0, 0, 0, 0}, {0.73f, 3, 0.70f, 3}, {o}).ok());
  MultiAgentStepResult r;
  ASSERT_TRUE((*env)->Step({0, 0, 0, 0}, &r).ok());
  EXPECT_FALSE((*env)->in_collision(1));
  EXPECT_NEAR(r.rewards[1], -1.0 * (1 - 0.01 / 0.1), 1e-4);  // the ramp at 0.01 clearance
}

TEST(NavigationTest, ObstacleProximityPenaltyWeighsObstacleNearMissesApart) {
  // Agent 0 is 0.07 from a box's right side (clearance 0.02) and 0.15
  // from agent 1 (clearance 0.05); agent 1 is 0.22 from the box.
  NavigationConfig c;
  c.proximity_penalty = 1.0;
  auto rewards = [&](double obstacle_weight) {
    c.obstacle_proximity_penalty = obstacle_weight;
    std::vector<float> r;
    std::unique_ptr<NavigationEnv> env = StepBesideBox(c, 0.67f, 0.82f, &r);
    EXPECT_FALSE(env->in_collision(0));
    return r;
  };
  // < 0 (default): one ramp over the nearer surface (the box, 0.02).
  std::vector<float> r = rewards(-1);
  EXPECT_NEAR(r[0], -(1 - 0.02 / 0.1), 1e-4);
  EXPECT_NEAR(r[1], -(1 - 0.05 / 0.1), 1e-4);
  // 0: the box no longer counts; the agent ramp alone.
  r = rewards(0);
  EXPECT_NEAR(r[0], -(1 - 0.05 / 0.1), 1e-4);
  EXPECT_NEAR(r[1], -(1 - 0.05 / 0.1), 1e-4);
  // 3: both ramps, the box's with its own weight.
  r = rewards(3);
  EXPECT_NEAR(r[0], -(1 - 0.05 / 0.1) - 3 * (1 - 0.02 / 0.1), 1e-4);
  EXPECT_NEAR(r[1], -(1 - 0.05 / 0.1), 1e-4);
  EXPECT_EQ(ParseNavigationConfig("obstacle_proximity_penalty=0")->obstacle_proximity_penalty, 0.0);
}

TEST(NavigationTest, ResetIsDeterministicInTheSeedAndScenariosPlaceAsDocumented) {
  std::unique_ptr<NavigationEnv> a = MakeNav(16, true), b = MakeNav(16, true);
  std::vector<float> oa, ob;
  a->Reset(7, &oa);
  b->Reset(7, &ob);
  EXPECT_EQ(oa, ob);
  EXPECT_EQ(a->positions(), b->positions());
  b->Reset(8, &ob);
  EXPECT_NE(a->positions(), b->positions());
  EXPECT_EQ(a->obstacles().size(), 16u);  // 8 per 4 x 4, area 32
  EXPECT_NEAR(a->side(), 4 * std::sqrt(2.0), 1e-9);
  // Starts (and goals) at least 0.2 apart.
  for (const std::vector<float>* pts : {&a->positions(), &a->goals()}) {
    for (int i = 0; i < 16; ++i) {
      for (int j = i + 1; j < 16; ++j) {
        EXPECT_GE(std::hypot((*pts)[2 * i] - (*pts)[2 * j], (*pts)[2 * i + 1] - (*pts)[2 * j + 1]),
                  0.2 - 1e-6);
      }
    }
  }
  // ... and at least 0.2 from every obstacle's surface (GCBF+'s rule), over many layouts.
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    a->Reset(seed, &oa);
    for (const std::vector<float>* pts : {&a->positions(), &a->goals()}) {
      for (int i = 0; i < 16; ++i) {
        for (const Obstacle& o : a->obstacles()) {
          ASSERT_GE(ObstacleSignedDistance(o, (*pts)[2 * i], (*pts)[2 * i + 1]), 0.2f - 1e-6f)
              << "seed " << seed << " agent " << i;
        }
      }
    }
  }
  std::unique_ptr<NavigationEnv> swap = MakeNav(6, false, NavigationScenario::kSwap);
  swap->Reset(1, &oa);
  for (int i = 0; i < 6; i += 2) {
    EXPECT_EQ(swap->goals()[2 * i], swap->positions()[2 * (i + 1)]);
    EXPECT_EQ(swap->goals()[2 * (i + 1) + 1], swap->positions()[2 * i + 1]);
  }
  std::unique_ptr<NavigationEnv> circle = MakeNav(8, false, NavigationScenario::kCircle);
  circle->Reset(1, &oa);
  const double mid = circle->side() / 2;
  for (int i = 0; i < 8; ++i) {
    EXPECT_NEAR(circle->positions()[2 * i] + circle->goals()[2 * i], 2 * mid, 1e-5);
    EXPECT_NEAR(circle->positions()[2 * i + 1] + circle->goals()[2 * i + 1], 2 * mid, 1e-5);
  }
  EXPECT_EQ(circle->spec().max_episode_steps, NavigationEpisodeSteps(4.0));
}

TEST(NavigationControllerTest, GoToGoalBringsALoneAgentHomeAndStops) {
  NavigationController controller;
  EXPECT_GT(controller.k_position(), 0);
  EXPECT_GT(controller.k_velocity(), 0);
  std::unique_ptr<NavigationEnv> env = MakeNav(1);
  ASSERT_TRUE(env->SetState({0.5f, 0.5f}, {0, 0}, {3.5f, 2.5f}, {}).ok());
  std::vector<float> u;
  MultiAgentStepResult r;
  do {
    controller.Act(*env, &u);
    ASSERT_TRUE(env->Step(u, &r).ok());
  } while (!r.done());
  EXPECT_TRUE(r.terminated[0]);
  EXPECT_TRUE(env->stats()[0].success());
  // About 3.6 away at up to 0.5 per axis (0.71 diagonally): well inside the limit.
  EXPECT_LT(env->stats()[0].reach_step, 400);
}

TEST(NavigationControllerTest, RepulsionKeepsTwoAgentsSwappingPlacesApart) {
  for (double gain : {0.0, 0.5}) {
    std::unique_ptr<NavigationEnv> env = MakeNav(2);
    ASSERT_TRUE(env->SetState({1, 1.0f, 3, 1.01f}, {0, 0, 0, 0}, {3, 1.0f, 1, 1.01f}, {}).ok());
    NavigationController controller(gain);
    std::vector<float> u;
    MultiAgentStepResult r;
    do {
      controller.Act(*env, &u);
      ASSERT_TRUE(env->Step(u, &r).ok());
    } while (!r.done());
    EXPECT_EQ(env->stats()[0].collided, gain == 0.0) << gain;
    EXPECT_TRUE(env->stats()[0].reached) << gain;
  }
}

TEST(NavigationControllerTest, ResidualActionsCorrectTheGoToGoalForce) {
  // residual=1: a zero action flies the go-to-goal controller's path exactly;
  // a full action against it is clipped to the force bound.
  NavigationConfig c;
  c.num_agents = 8;
  c.obstacles = true;
  absl::StatusOr<std::unique_ptr<NavigationEnv>> direct = NavigationEnv::Create(c);
  c.residual = true;
  absl::StatusOr<std::unique_ptr<NavigationEnv>> residual = NavigationEnv::Create(c);
  ASSERT_TRUE(direct.ok() && residual.ok());
  std::vector<float> obs, u;
  (*direct)->Reset(3, &obs);
  (*residual)->Reset(3, &obs);
  const std::vector<float> zero(16, 0.0f);
  NavigationController go_to_goal;
  MultiAgentStepResult rd, rr;
  for (int t = 0; t < 200; ++t) {
    go_to_goal.Act(**direct, &u);
    ASSERT_TRUE((*direct)->Step(u, &rd).ok());
    ASSERT_TRUE((*residual)->Step(zero, &rr).ok());
    ASSERT_EQ((*direct)->positions(), (*residual)->positions()) << t;
    ASSERT_EQ(rd.rewards, rr.rewards) << t;  // the action cost is on the applied force
    if (rd.done()) break;
  }
  // One agent at rest with its goal far along +x: the nominal force points
  // along +x (k_position x 0.5, about 0.79); an action of -1 gives about
  // -1.2, clipped to -1, so it accelerates along -x at full force.
  NavigationConfig one;
  one.num_agents = 1;
  one.residual = true;
  std::unique_ptr<NavigationEnv> env = std::move(*NavigationEnv::Create(one));
  ASSERT_TRUE(env->SetState({0.5f, 0.5f}, {0, 0}, {3.5f, 0.5f}, {}).ok());
  double ux = 0, uy = 0;
  NominalNavigationForce(0.5f, 0.5f, 0, 0, 3.5f, 0.5f, &ux, &uy);
  EXPECT_NEAR(ux, go_to_goal.k_position() * nav::kSensingRadius, 1e-6);
  EXPECT_EQ(uy, 0.0);
  ASSERT_TRUE(env->Step(std::vector<float>{-1.0f, 0.0f}, &rr).ok());
  EXPECT_NEAR(env->velocities()[0], -nav::kMaxForce / nav::kMass * nav::kDt, 1e-6);
  // A hand-written controller gives the force itself: evaluated on a
  // residual config it runs as on the direct one.
  NavigationConfig eval = c;
  absl::StatusOr<NavigationEvalResult> on_residual =
      EvaluateNavigationController(eval, 2, 7, go_to_goal);
  eval.residual = false;
  absl::StatusOr<NavigationEvalResult> on_direct = EvaluateNavigationController(eval, 2, 7, go_to_goal);
  ASSERT_TRUE(on_residual.ok() && on_direct.ok());
  EXPECT_EQ(on_residual->success_rate, on_direct->success_rate);
  EXPECT_EQ(on_residual->mean_time_to_goal, on_direct->mean_time_to_goal);
  EXPECT_TRUE(ParseNavigationConfig("residual=1")->residual);
  EXPECT_FALSE(ParseNavigationConfig("residual=2").ok());
}

TEST(NavigationTest, EgoLidarHoldsTheRayRangesOfTheHitSlots) {
  NavigationConfig c;
  c.num_agents = 16;
  c.obstacles = true;
  c.ego_lidar = true;
  std::unique_ptr<NavigationEnv> env = std::move(*NavigationEnv::Create(c));
  const GraphLayout& layout = env->spec().graph_layout;
  ASSERT_EQ(layout.ego_dim, nav::kEgoDim + nav::kLidarRays);
  int hits = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    std::vector<float> obs;
    env->Reset(seed, &obs);
    for (int i = 0; i < 16; ++i) {
      const float* row = &obs[i * layout.width()];
      const float* rays = row + layout.ego_dim + c.max_agent_neighbors * layout.slot_width();
      for (int r = 0; r < nav::kLidarRays; ++r) {
        const float* slot = rays + r * layout.slot_width();
        const float ego = row[nav::kEgoDim + r];
        if (slot[0] > 0.5f) {  // a hit within 0.4: the same range, / 0.4
          ++hits;
          EXPECT_NEAR(ego * nav::kLidarActiveRange, std::hypot(slot[3], slot[4]) * 0.5, 1e-5);
          EXPECT_LT(ego, 1.0f);
        } else {
          EXPECT_EQ(ego, 1.0f);
        }
      }
    }
  }
  EXPECT_GT(hits, 0);
  // Without obstacles the setting adds nothing.
  c.obstacles = false;
  EXPECT_EQ((*NavigationEnv::Create(c))->spec().graph_layout.ego_dim, nav::kEgoDim);
  EXPECT_TRUE(ParseNavigationConfig("ego_lidar=1")->ego_lidar);
}

TEST(NavigationConfigTest, ParsesSettingsAndNamesBadOnes) {
  absl::StatusOr<NavigationConfig> c =
      ParseNavigationConfig("agents=32,scenario=circle obstacles=1,proximity_penalty=0.5,geodesic=0");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->num_agents, 32);
  EXPECT_EQ(c->scenario, NavigationScenario::kCircle);
  EXPECT_TRUE(c->obstacles);
  EXPECT_FALSE(c->geodesic_progress);
  EXPECT_FALSE(ParseNavigationConfig("obstacles=1")->geodesic_progress);  // the default
  NavigationConfig big = *ParseNavigationConfig("agents=129,obstacles=1,geodesic=1");
  EXPECT_THAT(std::string(NavigationEnv::Create(big).status().message()),
              testing::HasSubstr("geodesic=1 with obstacles takes at most 128 agents, got 129"));
  big.obstacles = false;  // no obstacles, no routes
  EXPECT_TRUE(NavigationEnv::Create(big).ok());
  EXPECT_FALSE(ParseNavigationConfig("geodesic=yes").ok());
  EXPECT_EQ(c->proximity_penalty, 0.5);
  EXPECT_THAT(std::string(ParseNavigationConfig("agent=3").status().message()),
              testing::HasSubstr("unknown navigation setting \"agent\""));
  EXPECT_FALSE(ParseNavigationConfig("agents=0").ok());
  EXPECT_FALSE(ParseNavigationConfig("scenario=line").ok());
  EXPECT_FALSE(ParseNavigationConfig("obstacles=2").ok());
  EXPECT_FALSE(ParseNavigationConfig("collision_penalty=nan").ok());
}

}  // namespace
}  // namespace rlx
