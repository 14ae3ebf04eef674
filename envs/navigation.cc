#include "envs/navigation.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "envs/navigation_routes.h"

namespace rlx {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kScale = static_cast<float>(1.0 / 0.5);  // positions and velocities / 0.5
constexpr double kPi = 3.14159265358979323846;
// The grids cover the area plus this margin on every side. Agents may leave
// the area: clamping into the border cells keeps queries exact, and a small
// margin keeps the per-step cost of the grid (one pass over its cells) low.
constexpr double kGridMargin = 0.25;
// NavigationEnv::contact_ bits.
constexpr uint8_t kAgentContact = 1, kObstacleContact = 2;

float Clamp(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

// Rejection sampling of points at least kMinSeparation apart and at least
// kMinSeparation from every obstacle's surface (GCBF+'s rule for starts and
// goals: 4 agent radii), with a hash grid over the area (expected O(1) per
// point).
class PointSampler {
 public:
  PointSampler(double side, const std::vector<Obstacle>* obstacles)
      : side_(side), obstacles_(obstacles) {
    cells_ = std::max(1, static_cast<int>(std::ceil(side / nav::kMinSeparation)));
    buckets_.resize(static_cast<size_t>(cells_) * cells_);
  }
  bool Free(float x, float y) const {
    for (const Obstacle& o : *obstacles_) {
      if (ObstacleSignedDistance(o, x, y) < nav::kMinSeparation) return false;
    }
    const int cx = Cell(x), cy = Cell(y);
    const float r2 = static_cast<float>(nav::kMinSeparation * nav::kMinSeparation);
    for (int gy = std::max(0, cy - 1); gy <= std::min(cells_ - 1, cy + 1); ++gy) {
      for (int gx = std::max(0, cx - 1); gx <= std::min(cells_ - 1, cx + 1); ++gx) {
        for (const auto& [px, py] : buckets_[gy * cells_ + gx]) {
          if ((px - x) * (px - x) + (py - y) * (py - y) < r2) return false;
        }
      }
    }
    return true;
  }
  void Add(float x, float y) { buckets_[Cell(y) * cells_ + Cell(x)].push_back({x, y}); }
  // A free uniform point (falls back to the last draw after many misses,
  // which only an over-full area reaches).
  std::pair<float, float> Draw(std::mt19937_64* rng) {
    std::uniform_real_distribution<float> u(0.0f, static_cast<float>(side_));
    float x = 0, y = 0;
    for (int attempt = 0; attempt < 10000; ++attempt) {
      x = u(*rng);
      y = u(*rng);
      if (Free(x, y)) break;
    }
    Add(x, y);
    return {x, y};
  }

 private:
  int Cell(float v) const {
    return std::clamp(static_cast<int>(v / nav::kMinSeparation), 0, cells_ - 1);
  }
  double side_;
  const std::vector<Obstacle>* obstacles_;
  int cells_;
  std::vector<std::vector<std::pair<float, float>>> buckets_;
};

}  // namespace

absl::StatusOr<NavigationScenario> ParseNavigationScenario(absl::string_view name) {
  if (name == "random") return NavigationScenario::kRandom;
  if (name == "swap") return NavigationScenario::kSwap;
  if (name == "circle") return NavigationScenario::kCircle;
  if (name == "mixed") return NavigationScenario::kMixed;
  return absl::InvalidArgumentError(absl::StrCat("unknown navigation scenario \"", name,
                                                 "\"; known: random, swap, circle, mixed"));
}

const char* NavigationScenarioName(NavigationScenario scenario) {
  switch (scenario) {
    case NavigationScenario::kRandom: return "random";
    case NavigationScenario::kSwap: return "swap";
    case NavigationScenario::kCircle: return "circle";
    case NavigationScenario::kMixed: return "mixed";
  }
  return "?";
}

double NavigationSide(int num_agents) {
  return 4.0 * std::sqrt(static_cast<double>(num_agents) / nav::kAgentsPer16);
}

int NavigationEpisodeSteps(double side) {
  return static_cast<int>(std::ceil(side * std::sqrt(2.0) / (nav::kMaxSpeed * nav::kDt))) + 100;
}

float ObstacleSignedDistance(const Obstacle& o, float x, float y) {
  const float rx = x - o.cx, ry = y - o.cy;
  const float lx = std::abs(o.c * rx + o.s * ry) - o.hw;  // into the rectangle's frame
  const float ly = std::abs(-o.s * rx + o.c * ry) - o.hh;
  const float ox = std::max(lx, 0.0f), oy = std::max(ly, 0.0f);
  return std::sqrt(ox * ox + oy * oy) + std::min(std::max(lx, ly), 0.0f);
}

float RayObstacleHit(const Obstacle& o, float ox, float oy, float dx, float dy, float range) {
  const float rx = ox - o.cx, ry = oy - o.cy;
  const float px = o.c * rx + o.s * ry, py = -o.s * rx + o.c * ry;
  const float qx = o.c * dx + o.s * dy, qy = -o.s * dx + o.c * dy;
  float t0 = -kInf, t1 = kInf;
  const float p[2] = {px, py}, q[2] = {qx, qy}, h[2] = {o.hw, o.hh};
  for (int a = 0; a < 2; ++a) {
    if (std::abs(q[a]) < 1e-12f) {
      if (p[a] < -h[a] || p[a] > h[a]) return kInf;
      continue;
    }
    float ta = (-h[a] - p[a]) / q[a], tb = (h[a] - p[a]) / q[a];
    if (ta > tb) std::swap(ta, tb);
    t0 = std::max(t0, ta);
    t1 = std::min(t1, tb);
  }
  if (t0 > t1 || t1 < 0) return kInf;
  const float t = std::max(t0, 0.0f);
  return t <= range ? t : kInf;
}

absl::StatusOr<std::unique_ptr<NavigationEnv>> NavigationEnv::Create(
    const NavigationConfig& config) {
  if (config.num_agents < 1 || config.num_agents > 65536) {
    return absl::InvalidArgumentError(
        absl::StrCat("navigation: agents must be in [1, 65536], got ", config.num_agents));
  }
  if (config.max_agent_neighbors < 0 || config.max_agent_neighbors > 64) {
    return absl::InvalidArgumentError(absl::StrCat(
        "navigation: neighbors must be in [0, 64], got ", config.max_agent_neighbors));
  }
  if (config.geodesic_progress && config.obstacles && config.num_agents > nav::kMaxGeodesicAgents) {
    return absl::InvalidArgumentError(absl::StrCat(
        "navigation: geodesic=1 with obstacles takes at most ", nav::kMaxGeodesicAgents,
        " agents, got ", config.num_agents));
  }
  if (!(config.proximity_range > 0 && config.proximity_range <= nav::kLidarActiveRange)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "navigation: proximity_range must be in (0, ", nav::kLidarActiveRange, "], got ",
        config.proximity_range));
  }
  if (config.episode_steps < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("navigation: episode_steps must be >= 0, got ", config.episode_steps));
  }
  for (double v : {config.progress_reward, config.collision_penalty, config.action_cost,
                   config.goal_bonus, config.proximity_penalty, config.obstacle_proximity_penalty,
                   config.obstacle_collision_penalty}) {
    if (!std::isfinite(v)) return absl::InvalidArgumentError("navigation: rewards must be finite");
  }
  return std::unique_ptr<NavigationEnv>(new NavigationEnv(config));
}

NavigationEnv::NavigationEnv(const NavigationConfig& config)
    : config_(config),
      n_(config.num_agents),
      side_(NavigationSide(config.num_agents)),
      grid_(-kGridMargin, -kGridMargin, NavigationSide(config.num_agents) + 2 * kGridMargin,
            nav::kSensingRadius) {
  spec_.name = kName;
  spec_.num_agents = n_;
  spec_.graph_layout.ego_dim =
      nav::kEgoDim + (config.obstacles && config.ego_lidar ? nav::kLidarRays : 0);
  spec_.graph_layout.edge_dim = nav::kEdgeDim;
  spec_.graph_layout.max_edges =
      config.max_agent_neighbors + (config.obstacles ? nav::kLidarRays : 0);
  const int64_t width = spec_.graph_layout.width();
  spec_.observation_space = Space::Box(std::vector<float>(width, -kInf),
                                       std::vector<float>(width, kInf));
  spec_.action_space = Space::Box({-1.0f, -1.0f}, {1.0f, 1.0f});
  spec_.max_episode_steps =
      config.episode_steps > 0 ? config.episode_steps : NavigationEpisodeSteps(side_);
  pos_.assign(2 * n_, 0.0f);
  vel_.assign(2 * n_, 0.0f);
  goal_.assign(2 * n_, 0.0f);
  dist_.assign(n_, 0.0f);
  contact_.assign(n_, 0);
  clearance_.assign(n_, static_cast<float>(config.proximity_range));
  obstacle_clearance_.assign(n_, static_cast<float>(config.proximity_range));
  stats_.assign(n_, NavigationAgentStats());
  routes_ = std::make_unique<ObstacleRoutes>(static_cast<float>(nav::kAgentRadius));
  for (int r = 0; r < nav::kLidarRays; ++r) {
    // GCBF+'s beam angles: linspace(-pi, pi - 2 pi / rays, rays).
    const double theta = -kPi + 2 * kPi * r / nav::kLidarRays;
    ray_cos_.push_back(static_cast<float>(std::cos(theta)));
    ray_sin_.push_back(static_cast<float>(std::sin(theta)));
  }
}

NavigationEnv::~NavigationEnv() = default;

void NavigationEnv::PlaceObstacles() {
  obstacles_.clear();
  if (!config_.obstacles) return;
  const int count = static_cast<int>(std::lround(nav::kObstaclesPer16 * side_ * side_ / 16.0));
  std::uniform_real_distribution<double> pos(0.0, side_), len(nav::kObstacleSideMin,
                                                              nav::kObstacleSideMax),
      angle(0.0, 2 * kPi);
  for (int k = 0; k < count; ++k) {
    Obstacle o;
    o.cx = static_cast<float>(pos(rng_));
    o.cy = static_cast<float>(pos(rng_));
    o.hw = static_cast<float>(len(rng_) / 2);
    o.hh = static_cast<float>(len(rng_) / 2);
    const double theta = angle(rng_);
    o.c = static_cast<float>(std::cos(theta));
    o.s = static_cast<float>(std::sin(theta));
    obstacles_.push_back(o);
  }
}

void NavigationEnv::PlaceAgents() {
  NavigationScenario scenario = config_.scenario;
  if (scenario == NavigationScenario::kMixed) {
    // Half the episodes random, a quarter each swap and circle.
    const uint64_t pick = rng_() % 4;
    scenario = pick < 2 ? NavigationScenario::kRandom
                        : (pick == 2 ? NavigationScenario::kSwap : NavigationScenario::kCircle);
  }
  switch (scenario) {
    case NavigationScenario::kMixed:  // resolved above
    case NavigationScenario::kRandom: {
      PointSampler starts(side_, &obstacles_), goals(side_, &obstacles_);
      for (int i = 0; i < n_; ++i) std::tie(pos_[2 * i], pos_[2 * i + 1]) = starts.Draw(&rng_);
      for (int i = 0; i < n_; ++i) std::tie(goal_[2 * i], goal_[2 * i + 1]) = goals.Draw(&rng_);
      break;
    }
    case NavigationScenario::kSwap: {
      // Pairs trade places: agent 2k's goal is 2k+1's start and back. An odd
      // agent out gets a random goal.
      PointSampler starts(side_, &obstacles_);
      for (int i = 0; i < n_; ++i) std::tie(pos_[2 * i], pos_[2 * i + 1]) = starts.Draw(&rng_);
      for (int i = 0; i + 1 < n_; i += 2) {
        goal_[2 * i] = pos_[2 * (i + 1)];
        goal_[2 * i + 1] = pos_[2 * (i + 1) + 1];
        goal_[2 * (i + 1)] = pos_[2 * i];
        goal_[2 * (i + 1) + 1] = pos_[2 * i + 1];
      }
      if (n_ % 2 == 1) {
        PointSampler goals(side_, &obstacles_);
        std::tie(goal_[2 * (n_ - 1)], goal_[2 * (n_ - 1) + 1]) = goals.Draw(&rng_);
      }
      break;
    }
    case NavigationScenario::kCircle: {
      // Evenly on a circle around the centre, each goal antipodal; the
      // obstacles that overlap a start or goal are moved away.
      const double radius = 0.45 * side_;
      const double offset = std::uniform_real_distribution<double>(0, 2 * kPi)(rng_);
      for (int i = 0; i < n_; ++i) {
        const double a = offset + 2 * kPi * i / n_;
        pos_[2 * i] = static_cast<float>(side_ / 2 + radius * std::cos(a));
        pos_[2 * i + 1] = static_cast<float>(side_ / 2 + radius * std::sin(a));
        goal_[2 * i] = static_cast<float>(side_ / 2 - radius * std::cos(a));
        goal_[2 * i + 1] = static_cast<float>(side_ / 2 - radius * std::sin(a));
      }
      std::uniform_real_distribution<double> pos(0.0, side_);
      for (Obstacle& o : obstacles_) {
        for (int attempt = 0; attempt < 100; ++attempt) {
          bool clear = true;
          for (int i = 0; i < n_ && clear; ++i) {
            clear = ObstacleSignedDistance(o, pos_[2 * i], pos_[2 * i + 1]) >=
                        nav::kMinSeparation &&
                    ObstacleSignedDistance(o, goal_[2 * i], goal_[2 * i + 1]) >=
                        nav::kMinSeparation;
          }
          if (clear) break;
          o.cx = static_cast<float>(pos(rng_));
          o.cy = static_cast<float>(pos(rng_));
        }
      }
      break;
    }
  }
}

void NavigationEnv::IndexObstacles() {
  const int cells = grid_.cells_x() * grid_.cells_y();
  std::vector<std::vector<int32_t>> lists(cells);
  // Each obstacle goes into every cell within reach of its bounding box:
  // Sense() looks up only the agent's own cell for contacts and clearances
  // (up to the agent radius + proximity_range away).
  const float reach = static_cast<float>(nav::kAgentRadius + config_.proximity_range);
  for (size_t k = 0; k < obstacles_.size(); ++k) {
    const Obstacle& o = obstacles_[k];
    const float ex = std::abs(o.c) * o.hw + std::abs(o.s) * o.hh + reach;
    const float ey = std::abs(o.s) * o.hw + std::abs(o.c) * o.hh + reach;
    for (int gy = grid_.CellY(o.cy - ey); gy <= grid_.CellY(o.cy + ey); ++gy) {
      for (int gx = grid_.CellX(o.cx - ex); gx <= grid_.CellX(o.cx + ex); ++gx) {
        lists[gy * grid_.cells_x() + gx].push_back(static_cast<int32_t>(k));
      }
    }
  }
  obstacle_cell_offsets_.assign(cells + 1, 0);
  obstacle_cell_items_.clear();
  for (int c = 0; c < cells; ++c) {
    obstacle_cell_items_.insert(obstacle_cell_items_.end(), lists[c].begin(), lists[c].end());
    obstacle_cell_offsets_[c + 1] = static_cast<int32_t>(obstacle_cell_items_.size());
  }
  obstacle_stamp_.assign(obstacles_.size(), 0);
  stamp_ = 0;
}

float NavigationEnv::ProgressPotential(int i, float straight) const {
  return routes_on_ ? routes_->Distance(i, pos_[2 * i], pos_[2 * i + 1]) : straight;
}

void NavigationEnv::StartEpisode() {
  std::fill(vel_.begin(), vel_.end(), 0.0f);
  IndexObstacles();
  stats_.assign(n_, NavigationAgentStats());
  std::fill(contact_.begin(), contact_.end(), 0);
  elapsed_ = 0;
  routes_on_ = config_.geodesic_progress && !obstacles_.empty();
  if (routes_on_) {
    routes_->Build(obstacles_);
    routes_->SetGoals(goal_);
  }
  for (int i = 0; i < n_; ++i) {
    const float d = std::hypot(goal_[2 * i] - pos_[2 * i], goal_[2 * i + 1] - pos_[2 * i + 1]);
    dist_[i] = ProgressPotential(i, d);
    if (d < nav::kGoalRadius) {
      stats_[i].reached = true;
      stats_[i].reach_step = 0;
    }
  }
  Sense();
  needs_reset_ = false;
}

void NavigationEnv::Reset(std::optional<uint64_t> seed, std::vector<float>* observations) {
  if (seed.has_value()) rng_.seed(*seed);
  PlaceObstacles();
  PlaceAgents();
  StartEpisode();
  Observations(observations);
}

absl::Status NavigationEnv::SetState(std::vector<float> positions, std::vector<float> velocities,
                                     std::vector<float> goals, std::vector<Obstacle> obstacles) {
  const size_t want = 2 * static_cast<size_t>(n_);
  if (positions.size() != want || velocities.size() != want || goals.size() != want) {
    return absl::InvalidArgumentError(absl::StrCat("navigation: SetState needs ", want,
                                                   " positions, velocities and goals"));
  }
  pos_ = std::move(positions);
  goal_ = std::move(goals);
  obstacles_ = std::move(obstacles);
  StartEpisode();
  vel_ = std::move(velocities);
  Sense();
  return absl::OkStatus();
}

void NavigationEnv::Sense() {
  grid_.Rebuild(pos_.data(), n_);
  graph_.offsets.resize(n_ + 1);
  graph_.offsets[0] = 0;
  graph_.neighbors.clear();
  graph_d2_.clear();
  const float collide2 = static_cast<float>(nav::kCollisionDistance * nav::kCollisionDistance);
  for (int i = 0; i < n_; ++i) {
    const float x = pos_[2 * i], y = pos_[2 * i + 1];
    uint8_t touching = 0;
    float nearest2 = kInf;
    grid_.ForEachWithin(x, y, i, [&](int j, float, float, float d2) {
      graph_.neighbors.push_back(j);
      graph_d2_.push_back(d2);
      if (d2 < collide2) touching |= kAgentContact;
      nearest2 = std::min(nearest2, d2);
    });
    graph_.offsets[i + 1] = static_cast<int32_t>(graph_.neighbors.size());
    // Clearances to the nearest surfaces, capped at proximity_range (0 or
    // less: contact).
    const float cap = static_cast<float>(config_.proximity_range);
    const float clearance = std::sqrt(nearest2) - static_cast<float>(nav::kCollisionDistance);
    float obstacle_clearance = cap;
    if (!obstacles_.empty()) {
      const int cell = grid_.CellY(y) * grid_.cells_x() + grid_.CellX(x);
      for (int k = obstacle_cell_offsets_[cell]; k < obstacle_cell_offsets_[cell + 1]; ++k) {
        const float sd = ObstacleSignedDistance(obstacles_[obstacle_cell_items_[k]], x, y) -
                         static_cast<float>(nav::kAgentRadius);
        if (sd < 0) touching |= kObstacleContact;
        obstacle_clearance = std::min(obstacle_clearance, sd);
      }
    }
    clearance_[i] = std::min(clearance, cap);
    obstacle_clearance_[i] = obstacle_clearance;
    if (touching && !contact_[i]) {
      stats_[i].collided = true;
      ++stats_[i].collisions;
    }
    contact_[i] = touching;
  }
}

void NavigationEnv::Lidar(int i, float* distances) const {
  for (int r = 0; r < nav::kLidarRays; ++r) distances[r] = kInf;
  if (obstacles_.empty()) return;
  const float x = pos_[2 * i], y = pos_[2 * i + 1];
  const int cx = grid_.CellX(x), cy = grid_.CellY(y);
  ++stamp_;
  const float range = static_cast<float>(nav::kSensingRadius);
  for (int gy = std::max(0, cy - 1); gy <= std::min(grid_.cells_y() - 1, cy + 1); ++gy) {
    for (int gx = std::max(0, cx - 1); gx <= std::min(grid_.cells_x() - 1, cx + 1); ++gx) {
      const int cell = gy * grid_.cells_x() + gx;
      for (int k = obstacle_cell_offsets_[cell]; k < obstacle_cell_offsets_[cell + 1]; ++k) {
        const int32_t o = obstacle_cell_items_[k];
        if (obstacle_stamp_[o] == stamp_) continue;
        obstacle_stamp_[o] = stamp_;
        const Obstacle& ob = obstacles_[o];
        if (ObstacleSignedDistance(ob, x, y) > range) continue;
        for (int r = 0; r < nav::kLidarRays; ++r) {
          distances[r] =
              std::min(distances[r], RayObstacleHit(ob, x, y, ray_cos_[r], ray_sin_[r], range));
        }
      }
    }
  }
}

void NavigationEnv::WriteObservation(int i, float* out) const {
  const GraphLayout& layout = spec_.graph_layout;
  std::memset(out, 0, layout.width() * sizeof(float));
  const float px = pos_[2 * i], py = pos_[2 * i + 1];
  const float vx = vel_[2 * i], vy = vel_[2 * i + 1];
  float gx = goal_[2 * i] - px, gy = goal_[2 * i + 1] - py;
  const float d = std::sqrt(gx * gx + gy * gy);
  const float limit = static_cast<float>(nav::kSensingRadius);
  if (d > limit) {
    gx *= limit / d;
    gy *= limit / d;
  }
  out[0] = gx * kScale;
  out[1] = gy * kScale;
  out[2] = vx * kScale;
  out[3] = vy * kScale;
  out[4] = std::min(d, 2.0f) * 0.5f;
  float hits[nav::kLidarRays];
  const float active = static_cast<float>(nav::kLidarActiveRange);
  if (config_.obstacles) {
    Lidar(i, hits);
    if (config_.ego_lidar) {
      for (int r = 0; r < nav::kLidarRays; ++r) {
        out[nav::kEgoDim + r] = hits[r] < active ? hits[r] / active : 1.0f;
      }
    }
  }
  float* slot = out + layout.ego_dim;
  const int64_t sw = layout.slot_width();
  // The nearest max_agent_neighbors sensed agents, nearest first.
  const int begin = graph_.offsets[i], count = graph_.offsets[i + 1] - begin;
  const int take = std::min(count, config_.max_agent_neighbors);
  int chosen[64];
  float chosen_d2[64];
  int have = 0;
  for (int k = 0; k < count && take > 0; ++k) {
    const float d2 = graph_d2_[begin + k];
    if (have == take && d2 >= chosen_d2[have - 1]) continue;
    int at = have < take ? have++ : have - 1;
    while (at > 0 && chosen_d2[at - 1] > d2) {
      chosen[at] = chosen[at - 1];
      chosen_d2[at] = chosen_d2[at - 1];
      --at;
    }
    chosen[at] = graph_.neighbors[begin + k];
    chosen_d2[at] = d2;
  }
  for (int k = 0; k < have; ++k, slot += sw) {
    const int j = chosen[k];
    slot[0] = 1.0f;
    slot[1] = 1.0f;
    slot[3] = (pos_[2 * j] - px) * kScale;
    slot[4] = (pos_[2 * j + 1] - py) * kScale;
    slot[5] = (vel_[2 * j] - vx) * kScale;
    slot[6] = (vel_[2 * j + 1] - vy) * kScale;
  }
  if (!config_.obstacles) return;
  slot = out + layout.ego_dim + config_.max_agent_neighbors * sw;
  for (int r = 0; r < nav::kLidarRays; ++r, slot += sw) {
    const bool hit = hits[r] < active;
    if (!hit && !config_.free_rays) continue;
    const float reach = hit ? hits[r] : active;
    slot[0] = 1.0f;
    slot[2] = hit ? 1.0f : 0.0f;
    slot[3] = reach * ray_cos_[r] * kScale;
    slot[4] = reach * ray_sin_[r] * kScale;
    slot[5] = -vx * kScale;
    slot[6] = -vy * kScale;
  }
}

void NavigationEnv::Observations(std::vector<float>* out) const {
  const int64_t width = spec_.graph_layout.width();
  out->resize(n_ * width);
  for (int i = 0; i < n_; ++i) WriteObservation(i, out->data() + i * width);
}

const NavigationLqrGains& NominalNavigationGains() {
  static const NavigationLqrGains gains = [] {
    // One axis: x = [position, velocity], A = [[1, dt], [0, 1]],
    // B = [0, dt / m], Q = 5 I, R = 1. Iterate the Riccati equation
    // P = Q + A'PA - A'PB (R + B'PB)^-1 B'PA to convergence.
    const double dt = nav::kDt, b = nav::kDt / nav::kMass;
    double p00 = 5, p01 = 0, p11 = 5;
    NavigationLqrGains k;
    for (int it = 0; it < 100000; ++it) {
      const double bpb = b * b * p11;  // B'PB, B'PA with B = [0, b]
      const double bpa0 = b * p01, bpa1 = b * (p01 * dt + p11);
      const double inv = 1.0 / (1.0 + bpb);
      k.position = inv * bpa0;  // u = -K x with x = -error: u = K error
      k.velocity = inv * bpa1;
      const double a00 = p00, a01 = p00 * dt + p01, a11 = p00 * dt * dt + 2 * p01 * dt + p11;
      const double n00 = 5 + a00 - bpa0 * k.position, n01 = a01 - bpa0 * k.velocity,
                   n11 = 5 + a11 - bpa1 * k.velocity;
      const double change = std::abs(n00 - p00) + std::abs(n01 - p01) + std::abs(n11 - p11);
      p00 = n00;
      p01 = n01;
      p11 = n11;
      if (change < 1e-10) break;
    }
    return k;
  }();
  return gains;
}

void NominalNavigationForce(float px, float py, float vx, float vy, float gx, float gy,
                            double* ux, double* uy) {
  const NavigationLqrGains& k = NominalNavigationGains();
  double e[4] = {gx - px, gy - py, -vx, -vy};
  const double norm = std::sqrt(e[0] * e[0] + e[1] * e[1] + e[2] * e[2] + e[3] * e[3]);
  if (norm > nav::kSensingRadius) {
    for (double& x : e) x *= nav::kSensingRadius / norm;
  }
  *ux = k.position * e[0] + k.velocity * e[2];
  *uy = k.position * e[1] + k.velocity * e[3];
}

absl::Status NavigationEnv::Step(absl::Span<const float> actions, MultiAgentStepResult* result) {
  if (needs_reset_) {
    return absl::FailedPreconditionError("navigation: Step before Reset or after the episode ended");
  }
  if (absl::Status s = ValidateMultiAgentActions(spec_, actions); !s.ok()) return s;
  if (config_.residual) {
    // The applied force: the nominal controller's plus twice the action.
    forces_.resize(2 * n_);
    const float fmax = static_cast<float>(nav::kMaxForce);
    for (int i = 0; i < n_; ++i) {
      double ux = 0, uy = 0;
      NominalNavigationForce(pos_[2 * i], pos_[2 * i + 1], vel_[2 * i], vel_[2 * i + 1],
                             goal_[2 * i], goal_[2 * i + 1], &ux, &uy);
      forces_[2 * i] = Clamp(static_cast<float>(ux) + 2 * actions[2 * i], -fmax, fmax);
      forces_[2 * i + 1] = Clamp(static_cast<float>(uy) + 2 * actions[2 * i + 1], -fmax, fmax);
    }
    actions = forces_;
  }
  const float dt = static_cast<float>(nav::kDt), inv_m = static_cast<float>(1.0 / nav::kMass);
  const float vmax = static_cast<float>(nav::kMaxSpeed);
  for (int k = 0; k < 2 * n_; ++k) {
    pos_[k] += vel_[k] * dt;
    vel_[k] = Clamp(vel_[k] + actions[k] * inv_m * dt, -vmax, vmax);
  }
  ++elapsed_;
  Sense();
  result->rewards.resize(n_);
  result->terminated.assign(n_, 0);
  result->truncated.assign(n_, 0);
  bool all_home = true;
  const float goal_r = static_cast<float>(nav::kGoalRadius);
  // The near-miss ramp: 0 at proximity_range of clearance, 1 at contact.
  auto NearMiss = [range = config_.proximity_range](float clearance) {
    return clearance < range ? std::min(1.0, 1.0 - clearance / range) : 0.0;
  };
  for (int i = 0; i < n_; ++i) {
    const float gx = goal_[2 * i] - pos_[2 * i], gy = goal_[2 * i + 1] - pos_[2 * i + 1];
    const float d = std::sqrt(gx * gx + gy * gy);
    const float ux = actions[2 * i], uy = actions[2 * i + 1];
    const float potential = ProgressPotential(i, d);
    double r = config_.progress_reward * (dist_[i] - potential) -
               config_.action_cost * (ux * ux + uy * uy);
    if (config_.obstacle_collision_penalty < 0) {
      if (contact_[i]) r -= config_.collision_penalty;
    } else {
      if (contact_[i] & kAgentContact) r -= config_.collision_penalty;
      if (contact_[i] & kObstacleContact) r -= config_.obstacle_collision_penalty;
    }
    if (config_.obstacle_proximity_penalty < 0) {  // one ramp over the nearest surface of either
      r -= config_.proximity_penalty * NearMiss(std::min(clearance_[i], obstacle_clearance_[i]));
    } else {
      r -= config_.proximity_penalty * NearMiss(clearance_[i]) +
           config_.obstacle_proximity_penalty * NearMiss(obstacle_clearance_[i]);
    }
    if (d < goal_r && !stats_[i].reached) {
      stats_[i].reached = true;
      stats_[i].reach_step = elapsed_;
      r += config_.goal_bonus;
    }
    all_home &= d < goal_r;
    dist_[i] = potential;
    result->rewards[i] = static_cast<float>(r);
  }
  if (all_home) {
    std::fill(result->terminated.begin(), result->terminated.end(), 1);
  } else if (elapsed_ >= spec_.max_episode_steps) {
    std::fill(result->truncated.begin(), result->truncated.end(), 1);
  }
  needs_reset_ = all_home || elapsed_ >= spec_.max_episode_steps;
  Observations(&result->observations);
  return absl::OkStatus();
}

absl::StatusOr<NavigationConfig> ParseNavigationConfig(absl::string_view settings) {
  NavigationConfig c;
  for (absl::string_view pair : absl::StrSplit(settings, absl::ByAnyChar(", "), absl::SkipEmpty())) {
    const std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(pair, '=');
    const absl::string_view key = kv.first, value = kv.second;
    auto bad = [&] {
      return absl::InvalidArgumentError(
          absl::StrCat("navigation setting ", key, ": bad value \"", value, "\""));
    };
    int i = 0;
    double d = 0;
    if (key == "agents" || key == "neighbors" || key == "episode_steps" || key == "obstacles" ||
        key == "geodesic" || key == "free_rays" || key == "residual" || key == "ego_lidar") {
      if (!absl::SimpleAtoi(value, &i)) return bad();
      if (key == "agents") c.num_agents = i;
      if (key == "neighbors") c.max_agent_neighbors = i;
      if (key == "episode_steps") c.episode_steps = i;
      if (key == "obstacles" || key == "geodesic" || key == "free_rays" || key == "residual" ||
          key == "ego_lidar") {
        if (i != 0 && i != 1) return bad();
        (key == "obstacles"   ? c.obstacles
         : key == "geodesic"  ? c.geodesic_progress
         : key == "residual"  ? c.residual
         : key == "ego_lidar" ? c.ego_lidar
                              : c.free_rays) = i == 1;
      }
    } else if (key == "scenario") {
      absl::StatusOr<NavigationScenario> s = ParseNavigationScenario(value);
      if (!s.ok()) return s.status();
      c.scenario = *s;
    } else if (key == "progress_reward" || key == "collision_penalty" || key == "action_cost" ||
               key == "goal_bonus" || key == "proximity_penalty" || key == "proximity_range" ||
               key == "obstacle_proximity_penalty" || key == "obstacle_collision_penalty") {
      if (!absl::SimpleAtod(value, &d) || !std::isfinite(d)) return bad();
      if (key == "progress_reward") c.progress_reward = d;
      if (key == "collision_penalty") c.collision_penalty = d;
      if (key == "action_cost") c.action_cost = d;
      if (key == "goal_bonus") c.goal_bonus = d;
      if (key == "proximity_penalty") c.proximity_penalty = d;
      if (key == "proximity_range") c.proximity_range = d;
      if (key == "obstacle_proximity_penalty") c.obstacle_proximity_penalty = d;
      if (key == "obstacle_collision_penalty") c.obstacle_collision_penalty = d;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown navigation setting \"", key,
          "\"; known: agents, scenario, obstacles, geodesic, free_rays, residual, ego_lidar, "
          "neighbors, "
          "episode_steps, "
          "progress_reward, "
          "collision_penalty, action_cost, goal_bonus, proximity_penalty, proximity_range, "
          "obstacle_proximity_penalty, obstacle_collision_penalty"));
    }
  }
  if (c.num_agents < 1 || c.num_agents > 65536) {
    return absl::InvalidArgumentError(
        absl::StrCat("navigation setting agents: must be in [1, 65536], got ", c.num_agents));
  }
  return c;
}

}  // namespace rlx
