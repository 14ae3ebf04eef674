// Navigation-v0: GCBF+'s 2-D double-integrator swarm (docs/environments.md,
// "Navigation"). N agents (state x, y, vx, vy; mass 0.1; force action in
// [-1, 1]^2; velocity clipped to +-0.5 per axis; Euler with dt 0.03) each
// drive to their own goal without touching each other (radius 0.05: a
// collision is a distance under 0.1) or the rectangular obstacles. An agent
// senses agents within 0.5 and, with obstacles, 32 LiDAR rays of range 0.5.
// Success for an agent: it came within 0.1 of its goal and never collided.
//
// The square area grows with N so that density stays at 8 agents (and 8
// obstacles) per 4 x 4; an episode lasts long enough to cross the area's
// diagonal at 0.5 per second plus 100 steps (NavigationEpisodeSteps).
//
// Observation (GraphLayout): ego = [goal offset clipped to length 0.5,
// velocity, distance to goal clipped to 2] scaled to about [-1, 1]; edges =
// the nearest max_agent_neighbors sensed agents [1, 0, relative position,
// relative velocity] nearest first, then one slot per LiDAR ray [0, 1, hit
// point relative position, -velocity], valid when the ray hits within 0.4
// (GCBF+'s active LiDAR range). Positions and velocities are divided by 0.5.
//
// Reward per agent and step: progress_reward x (distance to goal closed this
// step) - collision_penalty while in collision - action_cost x |u|^2, plus
// goal_bonus the first time the agent reaches its goal. The episode ends by
// truncation at the step limit, or by termination once every agent is within
// its goal radius at the same time.
//
// Cost: O(N) per step (a uniform grid for agents and another for obstacles).
// Not thread-safe; one owner.
#ifndef RLX_ENVS_NAVIGATION_H_
#define RLX_ENVS_NAVIGATION_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envs/multi_agent_env.h"
#include "envs/spatial_grid.h"

namespace rlx {

namespace nav {
inline constexpr double kAgentRadius = 0.05;
inline constexpr double kCollisionDistance = 2 * kAgentRadius;
inline constexpr double kSensingRadius = 0.5;
inline constexpr double kGoalRadius = 0.1;
inline constexpr double kDt = 0.03;
inline constexpr double kMass = 0.1;
inline constexpr double kMaxSpeed = 0.5;  // per axis
inline constexpr double kMaxForce = 1.0;  // per axis
inline constexpr int kLidarRays = 32;
inline constexpr double kLidarActiveRange = kSensingRadius - 0.1;
inline constexpr double kAgentsPer16 = 8;     // agents per 4 x 4 of area
inline constexpr double kObstaclesPer16 = 8;  // obstacles per 4 x 4 of area
inline constexpr double kObstacleSideMin = 0.1, kObstacleSideMax = 0.5;
// Between starts, between goals, and from a start or goal to an obstacle's surface (GCBF+).
inline constexpr double kMinSeparation = 4 * kAgentRadius;
inline constexpr int64_t kEgoDim = 5;
inline constexpr int kMaxGeodesicAgents = 128;
inline constexpr int64_t kEdgeDim = 6;
}  // namespace nav

// kMixed: each episode draws its scenario (random half of the time, swap
// and circle a quarter each), for training.
enum class NavigationScenario { kRandom, kSwap, kCircle, kMixed };
absl::StatusOr<NavigationScenario> ParseNavigationScenario(absl::string_view name);
const char* NavigationScenarioName(NavigationScenario scenario);

struct NavigationConfig {
  int num_agents = 8;
  NavigationScenario scenario = NavigationScenario::kRandom;
  bool obstacles = false;
  int max_agent_neighbors = 8;
  int episode_steps = 0;  // 0: NavigationEpisodeSteps(side)
  double progress_reward = 10.0;
  double collision_penalty = 0.5;
  double action_cost = 0.01;
  double goal_bonus = 1.0;
  // Near misses: proximity_penalty x (1 - clearance / proximity_range) per
  // step while the clearance (distance to the nearest agent's or obstacle's
  // surface) is under proximity_range (in (0, 0.4]), i.e. a ramp from 0 at
  // that clearance to the full penalty at contact. A denser signal than
  // collisions alone.
  double proximity_penalty = 0.0;
  double proximity_range = 0.1;
  // >= 0: obstacles get their own ramp with this weight and
  // proximity_penalty's counts agents only (obstacles do not move, and a
  // goal may lie close to one: 0 leaves obstacle contacts to
  // collision_penalty). < 0: one ramp over the nearest surface of either.
  double obstacle_proximity_penalty = -1.0;
  // With obstacles: progress is measured along the shortest path around
  // them (envs/navigation_routes.h), so that going round an obstacle pays
  // and pressing against its far side does not; false: the straight
  // distance (which has local minima behind obstacles). A training-time
  // shaping: its corner graph costs O(M^3) per reset for M obstacles, so
  // Create refuses it above kMaxGeodesicAgents agents.
  bool geodesic_progress = false;
  // >= 0: the per-step penalty while in contact with an obstacle, apart from
  // collision_penalty's for agents (both when touching both). < 0: one
  // collision_penalty for contact with anything.
  double obstacle_collision_penalty = -1.0;
  // With obstacles: a ray that hits nothing within 0.4 fills its slot with
  // a free-space node [1, 0, 0, ray end point, -velocity] (type flags both 0)
  // instead of leaving it empty, so the policy sees where the way is clear
  // and an obstacle coming into range changes a node's type, not the
  // number of nodes.
  bool free_rays = false;
  // The action is a correction to GCBF+'s nominal go-to-goal controller
  // (NominalNavigationForce): the applied force is
  // clip(nominal + 2 x action, -1, 1), so a zero action heads for the goal
  // and a full one can reverse the nominal force. GCBF+ likewise learns its
  // controller against this nominal one. The action cost is on the applied
  // force.
  bool residual = false;
  // With obstacles: the ego features also hold the agent's 32 LiDAR ranges in
  // ray order (distance to the hit / 0.4, 1 where a ray hits nothing within
  // 0.4), so a graph policy sees which directions are free without a node
  // per free ray (free_rays). The hits stay nodes of the graph.
  bool ego_lidar = false;
};

// Side of the square area for n agents at the fixed density, and the step
// limit for that side.
double NavigationSide(int num_agents);
int NavigationEpisodeSteps(double side);

// GCBF+'s nominal controller: the per-axis LQR gains (Q = 5 I, R = 1 on the
// discretised double integrator) and the force they give one agent at
// (px, py) with velocity (vx, vy) for its goal (gx, gy), on the error
// [goal - position, -velocity] scaled down to length kSensingRadius when
// longer. Not clipped.
struct NavigationLqrGains {
  double position = 0, velocity = 0;
};
const NavigationLqrGains& NominalNavigationGains();
void NominalNavigationForce(float px, float py, float vx, float vy, float gx, float gy,
                            double* ux, double* uy);

// A rectangle of half extents (hw, hh) centred at (cx, cy), rotated by the
// angle whose cosine and sine are (c, s).
struct Obstacle {
  float cx = 0, cy = 0, hw = 0, hh = 0, c = 1, s = 0;
};
// Signed distance from (x, y) to the rectangle (negative inside).
float ObstacleSignedDistance(const Obstacle& o, float x, float y);
// Distance along the unit ray (ox, oy) + t (dx, dy), t in [0, range], to the
// rectangle's boundary (0 when the origin is inside), or +infinity.
float RayObstacleHit(const Obstacle& o, float ox, float oy, float dx, float dy, float range);

// One agent's episode so far.
class ObstacleRoutes;  // envs/navigation_routes.h

struct NavigationAgentStats {
  bool reached = false;  // came within kGoalRadius of its goal
  int reach_step = -1;   // steps taken when it first did
  bool collided = false;
  int collisions = 0;    // times a contact began (with an agent or obstacle)
  bool success() const { return reached && !collided; }
};

class NavigationEnv : public MultiAgentEnv {
 public:
  ~NavigationEnv() override;
  static constexpr char kName[] = "Navigation-v0";
  static absl::StatusOr<std::unique_ptr<NavigationEnv>> Create(const NavigationConfig& config);

  const MultiAgentSpec& spec() const override { return spec_; }
  void Reset(std::optional<uint64_t> seed, std::vector<float>* observations) override;
  absl::Status Step(absl::Span<const float> actions, MultiAgentStepResult* result) override;
  const NeighbourGraph& graph() const override { return graph_; }

  const NavigationConfig& config() const { return config_; }
  double side() const { return side_; }
  int num_agents() const { return n_; }
  int elapsed_steps() const { return elapsed_; }
  // Interleaved x, y per agent.
  const std::vector<float>& positions() const { return pos_; }
  const std::vector<float>& velocities() const { return vel_; }
  const std::vector<float>& goals() const { return goal_; }
  const std::vector<Obstacle>& obstacles() const { return obstacles_; }
  const std::vector<NavigationAgentStats>& stats() const { return stats_; }
  // In contact with an agent or an obstacle now.
  bool in_collision(int i) const { return contact_[i] != 0; }
  // LiDAR hit distance per ray of agent i (+infinity: no hit within range).
  void Lidar(int i, float* distances) const;
  // Current observations (as Reset and Step write them).
  void Observations(std::vector<float>* out) const;

  // Puts the env in a hand-made state (tests): positions, velocities and
  // goals interleaved x, y per agent, and the obstacles; starts an episode
  // from it. INVALID_ARGUMENT on sizes that do not match num_agents.
  absl::Status SetState(std::vector<float> positions, std::vector<float> velocities,
                        std::vector<float> goals, std::vector<Obstacle> obstacles);

 private:
  explicit NavigationEnv(const NavigationConfig& config);
  void PlaceObstacles();
  void PlaceAgents();
  void IndexObstacles();
  // Rebuilds the agent grid and the neighbour graph, updates contacts.
  void Sense();
  void WriteObservation(int i, float* out) const;
  void StartEpisode();
  // Agent i's distance to its goal for the progress reward: along the
  // routes round the obstacles when routes_on_, else `straight`.
  float ProgressPotential(int i, float straight) const;

  NavigationConfig config_;
  MultiAgentSpec spec_;
  int n_;
  double side_;
  std::mt19937_64 rng_;
  std::vector<float> pos_, vel_, goal_;
  std::vector<float> forces_;  // residual: the applied forces of this step
  std::vector<float> dist_;  // the progress potential: distance to the goal (geodesic or straight)
  bool routes_on_ = false;   // geodesic progress in this episode
  std::unique_ptr<ObstacleRoutes> routes_;
  std::vector<Obstacle> obstacles_;
  std::vector<NavigationAgentStats> stats_;
  // Bits: kAgentContact, kObstacleContact (0: no contact).
  std::vector<uint8_t> contact_;
  // To the nearest agent's and the nearest obstacle's surface (each capped
  // at proximity_range).
  std::vector<float> clearance_, obstacle_clearance_;
  int elapsed_ = 0;
  bool needs_reset_ = true;
  SpatialGrid grid_;
  NeighbourGraph graph_;
  std::vector<float> graph_d2_;  // squared distances, aligned with graph_.neighbors
  // Obstacles by grid cell (compressed rows over grid_'s cells).
  std::vector<int32_t> obstacle_cell_offsets_, obstacle_cell_items_;
  mutable std::vector<uint32_t> obstacle_stamp_;
  mutable uint32_t stamp_ = 0;
  std::vector<float> ray_cos_, ray_sin_;
};

// Makes "Navigation-v0" from settings as key=value pairs (used by jobs and
// tools): agents, scenario (random|swap|circle|mixed), obstacles (0|1), neighbors,
// episode_steps, progress_reward, collision_penalty, action_cost,
// goal_bonus, proximity_penalty, proximity_range, obstacle_proximity_penalty. INVALID_ARGUMENT naming an unknown key or a bad value.
absl::StatusOr<NavigationConfig> ParseNavigationConfig(absl::string_view settings);

}  // namespace rlx

#endif  // RLX_ENVS_NAVIGATION_H_
