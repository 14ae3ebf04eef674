#include "envs/navigation_routes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <queue>
#include <random>

#include "envs/navigation.h"

namespace rlx {
namespace {

constexpr float kClear = 0.05f;

Obstacle Box(float cx, float cy, float hw, float hh, float angle = 0.0f) {
  Obstacle o;
  o.cx = cx;
  o.cy = cy;
  o.hw = hw;
  o.hh = hh;
  o.c = std::cos(angle);
  o.s = std::sin(angle);
  return o;
}

TEST(NavigationRoutesTest, SegmentDistanceMatchesDenseSamplingOnRandomCases) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f), half(0.05f, 0.3f), angle(0.0f, 6.3f);
  for (int trial = 0; trial < 300; ++trial) {
    const Obstacle o = Box(u(rng) * 0.3f, u(rng) * 0.3f, half(rng), half(rng), angle(rng));
    const float ax = u(rng), ay = u(rng), bx = u(rng), by = u(rng);
    float sampled = 1e9f;
    for (int k = 0; k <= 4000; ++k) {
      const float t = k / 4000.0f;
      sampled = std::min(sampled,
                         std::max(0.0f, ObstacleSignedDistance(o, ax + t * (bx - ax), ay + t * (by - ay))));
    }
    EXPECT_NEAR(SegmentObstacleDistance(o, ax, ay, bx, by), sampled, 2e-3) << "trial " << trial;
  }
}

TEST(NavigationRoutesTest, StraightWhenInSightAndAroundTheCornersOfOneBox) {
  ObstacleRoutes routes(kClear);
  routes.Build({Box(0.0f, 0.0f, 0.2f, 0.2f)});
  EXPECT_EQ(routes.num_corners(), 4);
  routes.SetGoals({1.0f, 0.0f});
  // In sight (passing the box's top right corner 0.24 away): the straight distance.
  EXPECT_FLOAT_EQ(routes.Distance(0, 0.0f, 0.6f), std::hypot(1.0f, 0.6f));
  // Blocked: to a grown corner, along the side, from the other corner.
  const float grow = 1.1f * kClear + 1e-3f, c = 0.2f + grow;
  const float want = 2 * std::hypot(1.0f - c, c) + 2 * c;
  EXPECT_NEAR(routes.Distance(0, -1.0f, 0.0f), want, 1e-5);
  // Longer than straight, and continuous across the box's shadow edge.
  EXPECT_GT(routes.Distance(0, -1.0f, 0.0f), 2.0f);
  EXPECT_NEAR(routes.Distance(0, -1.0f, 0.01f), routes.Distance(0, -1.0f, 0.0f), 0.02);
}

TEST(NavigationRoutesTest, NoObstaclesIsTheStraightDistance) {
  ObstacleRoutes routes(kClear);
  routes.Build({});
  routes.SetGoals({3.0f, 4.0f, 0.0f, 0.0f});
  EXPECT_FLOAT_EQ(routes.Distance(0, 0.0f, 0.0f), 5.0f);
  EXPECT_FLOAT_EQ(routes.Distance(1, 0.0f, 0.0f), 0.0f);
}

// Shortest paths on a fine 8-connected grid whose blocked cells are those
// within the clearance of an obstacle: an independent estimate (8-connected
// steps overestimate straight runs by at most 8.3 %).
std::vector<float> GridDistances(const std::vector<Obstacle>& obstacles, float side, float h,
                                 float gx, float gy, int* cells_per_side) {
  const int n = static_cast<int>(std::ceil(side / h)) + 1;
  *cells_per_side = n;
  std::vector<uint8_t> blocked(n * n, 0);
  for (int y = 0; y < n; ++y) {
    for (int x = 0; x < n; ++x) {
      for (const Obstacle& o : obstacles) {
        if (ObstacleSignedDistance(o, x * h, y * h) < kClear) blocked[y * n + x] = 1;
      }
    }
  }
  std::vector<float> dist(n * n, 1e9f);
  using Item = std::pair<float, int>;
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> queue;
  const int start = static_cast<int>(std::lround(gy / h)) * n + static_cast<int>(std::lround(gx / h));
  dist[start] = 0;
  queue.push({0.0f, start});
  while (!queue.empty()) {
    const auto [d, at] = queue.top();
    queue.pop();
    if (d > dist[at]) continue;
    const int x = at % n, y = at / n;
    for (int dy = -1; dy <= 1; ++dy) {
      for (int dx = -1; dx <= 1; ++dx) {
        const int nx = x + dx, ny = y + dy;
        if ((dx == 0 && dy == 0) || nx < 0 || ny < 0 || nx >= n || ny >= n) continue;
        const int to = ny * n + nx;
        if (blocked[to]) continue;
        const float step = (dx != 0 && dy != 0) ? h * std::sqrt(2.0f) : h;
        if (d + step < dist[to]) {
          dist[to] = d + step;
          queue.push({dist[to], to});
        }
      }
    }
  }
  return dist;
}

TEST(NavigationRoutesTest, AgreesWithAFineGridSearchOnRandomLayouts) {
  std::mt19937_64 rng(7);
  const float side = 4.0f, h = 0.02f;
  std::uniform_real_distribution<float> pos(0.5f, 3.5f), half(0.05f, 0.25f), angle(0.0f, 6.3f);
  int compared = 0, detours = 0;
  for (int layout = 0; layout < 4; ++layout) {
    std::vector<Obstacle> obstacles;
    for (int k = 0; k < 8; ++k) obstacles.push_back(Box(pos(rng), pos(rng), half(rng), half(rng), angle(rng)));
    auto free = [&](float x, float y) {
      for (const Obstacle& o : obstacles) {
        if (ObstacleSignedDistance(o, x, y) < 2 * kClear) return false;
      }
      return true;
    };
    float gx, gy;
    do {
      gx = pos(rng);
      gy = pos(rng);
    } while (!free(gx, gy));
    gx = std::round(gx / h) * h;
    gy = std::round(gy / h) * h;
    ObstacleRoutes routes(kClear);
    routes.Build(obstacles);
    routes.SetGoals({gx, gy});
    int n = 0;
    const std::vector<float> grid = GridDistances(obstacles, side, h, gx, gy, &n);
    for (int q = 0; q < 60; ++q) {
      float x, y;
      do {
        x = std::round(pos(rng) / h) * h;
        y = std::round(pos(rng) / h) * h;
      } while (!free(x, y));
      const float want = grid[static_cast<int>(std::lround(y / h)) * n + static_cast<int>(std::lround(x / h))];
      if (want > 1e8f) continue;  // walled in on the grid
      const float got = routes.Distance(0, x, y);
      EXPECT_LE(got, want * 1.01f + 0.03f) << "layout " << layout << " from " << x << "," << y;
      EXPECT_GE(got, want / 1.09f - 0.03f) << "layout " << layout << " from " << x << "," << y;
      detours += got > std::hypot(gx - x, gy - y) + 1e-3f;
      ++compared;
    }
  }
  EXPECT_GT(compared, 200);
  EXPECT_GT(detours, 5);  // the layouts do block some straight lines
}

TEST(NavigationRoutesTest, GoingRoundAnObstaclePaysWithGeodesicProgress) {
  for (bool geodesic : {true, false}) {
    NavigationConfig c;
    c.num_agents = 1;
    c.obstacles = true;
    c.geodesic_progress = geodesic;
    c.action_cost = 0;
    absl::StatusOr<std::unique_ptr<NavigationEnv>> env = NavigationEnv::Create(c);
    ASSERT_TRUE(env.ok());
    // The goal straight behind a wide box; the agent slides sideways.
    ASSERT_TRUE((*env)->SetState({2.0f, 1.5f}, {0.5f, 0.0f}, {2.0f, 3.0f}, {Box(2.0f, 2.0f, 0.4f, 0.1f)}).ok());
    MultiAgentStepResult r;
    ASSERT_TRUE((*env)->Step({0.0f, 0.0f}, &r).ok());
    if (geodesic) {
      EXPECT_GT(r.rewards[0], 0.0f);  // nearer the corner: nearer along the route
    } else {
      EXPECT_LT(r.rewards[0], 0.0f);  // farther in a straight line
    }
  }
}

}  // namespace
}  // namespace rlx
