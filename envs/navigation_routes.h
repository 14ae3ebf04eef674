// Shortest-path ("geodesic") distances to goals around rectangular
// obstacles, for Navigation-v0's progress reward with obstacles
// (docs/environments.md, "Progress around obstacles").
//
// A disc of radius `clearance` (the agent) must not touch an obstacle. The
// shortest path of its centre from a point to a goal then runs straight, or
// along segments between the corners of the obstacles grown by that radius
// (a visibility graph: the classic exact method for polygonal obstacles,
// up to the rounding of the grown corners). Build() makes the graph of the
// corners once per obstacle layout; SetGoals() runs one Dijkstra per goal
// over it; Distance() is |p - g| when the goal is in sight of p and otherwise
// the best |p - v| + D(v) over corners v in sight. Cost: Build O(V^2 M),
// SetGoals O(G (V M + V^2)), Distance O(M) when the goal is in sight and
// O(V + k M) when not (V = 4 M corners, M obstacles; corners are tried
// shortest route first, k of them until one is in sight).
//
// Thread-compatible.
#ifndef RLX_ENVS_NAVIGATION_ROUTES_H_
#define RLX_ENVS_NAVIGATION_ROUTES_H_

#include <utility>
#include <vector>

#include "envs/navigation.h"

namespace rlx {

// Distance between the segment a-b and the rectangle (0 when they meet).
float SegmentObstacleDistance(const Obstacle& o, float ax, float ay, float bx, float by);

class ObstacleRoutes {
 public:
  explicit ObstacleRoutes(float clearance) : clearance_(clearance) {}

  void Build(const std::vector<Obstacle>& obstacles);
  // goals: x, y interleaved per agent.
  void SetGoals(const std::vector<float>& goals);
  // The shortest-path length from (x, y) to goal `agent`. Obstacles that
  // already hold the point within the clearance (an agent in contact) are
  // ignored for its own sight lines; when no route is in sight, the straight
  // distance.
  float Distance(int agent, float x, float y) const;
  int num_corners() const { return static_cast<int>(corner_x_.size()); }

 private:
  // The segment keeps the clearance from every obstacle except `skip` ones.
  bool Clear(float ax, float ay, float bx, float by, const int* skip, int skips) const;
  // Obstacles within the clearance of (x, y), at most 8; returns the count.
  int Holding(float x, float y, int* out) const;

  float clearance_;
  std::vector<Obstacle> obstacles_;
  std::vector<float> reach_;  // per obstacle: circumradius + clearance (quick rejection)
  std::vector<float> corner_x_, corner_y_;
  std::vector<float> corner_dist_;  // V x V, +inf when not in sight
  std::vector<float> goal_x_, goal_y_;
  std::vector<float> to_goal_;  // G x V: shortest path from corner v to goal g
  mutable std::vector<std::pair<float, int>> scratch_;  // Distance()'s candidate heap
};

}  // namespace rlx

#endif  // RLX_ENVS_NAVIGATION_ROUTES_H_
